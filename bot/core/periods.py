"""Months and periods in one place: month arithmetic on `YYYY-MM` strings and the periods
people type (`2026-09`, `2026/9`, `2026年9月`, `2026`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.texts import T, UserError


def month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(month: str, delta: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_of_year(year: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


def month_end(month: str) -> dt.date:
    return month_start(add_months(month, 1)) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    month: str | None
    year: int | None

    @property
    def label(self) -> str:
        return self.month or str(self.year)


def last_complete_month(now: dt.datetime, tz: ZoneInfo) -> str:
    local = now.astimezone(tz).date()
    first = local.replace(day=1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def parse_period(text: str | None, now: dt.datetime, tz: ZoneInfo) -> Period:
    """`YYYY-MM`, `YYYY` (also `YYYY/MM`, `YYYY年M月`); nothing means the last complete month."""
    if not text:
        return Period(last_complete_month(now, tz), None)
    cleaned = text.strip()
    match = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})月?", cleaned)
    if match and 1 <= int(match.group(2)) <= 12 and 1900 <= int(match.group(1)) <= 2200:
        return Period(f"{int(match.group(1)):04d}-{int(match.group(2)):02d}", None)
    match = re.fullmatch(r"(\d{4})年?", cleaned)
    if match and 1900 <= int(match.group(1)) <= 2200:
        return Period(None, int(match.group(1)))
    raise UserError(T("{value!r} is not a month (YYYY-MM) or a year (YYYY).", value=text))


def split_period(words: list[str]) -> tuple[str, str | None]:
    """`/csat customer 华东 汽车 2026-09` → ("华东 汽车", "2026-09")."""
    if words and re.fullmatch(r"\d{4}([-/年.]\d{1,2}月?)?年?", words[-1]):
        return " ".join(words[:-1]), words[-1]
    return " ".join(words), None


def current_period(today: dt.date) -> str:
    """The month whose figures are called for during `today`'s month: the previous one."""
    return add_months(f"{today.year:04d}-{today.month:02d}", -1)


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def is_month(text: str | None) -> bool:
    """`YYYY-MM` with a plausible year (1900–2199): what scripts and imports must give."""
    return bool(text) and re.fullmatch(r"(19|20|21)\d{2}-(0[1-9]|1[0-2])", text or "") is not None
