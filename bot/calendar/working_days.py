"""The working calendar: Chinese statutory holidays and make-up working days (调休),
an admin-loaded official arrangement for years the library does not know yet, and company
overrides on top.

A year nobody knows yet keeps the statutory holidays by rule (元旦, 春节, 清明, 劳动节, 端午,
中秋, 国庆, their lunar and solar-term dates from lunar_python) on Monday-Friday; only its
make-up working days (调休) are unknown, and that is reported, never a crash or a silent
guess: `unknown_years_used` collects such years and the caller warns.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.core.i18n import N_
from bot.core.inputs import CONTROL, column_length
from bot.core.spreadsheets import RowError, RowErrors, cell_error, parse_day, read_table, too_long
from bot.core.texts import T, UserError
from storage.db import insert_ignoring_conflicts
from storage.models import CalendarDay, CalendarYear

# chinesecalendar names holidays in English; these msgids let readers see them translated.
HOLIDAY_NAMES = [N_("New Year's Day"), N_("Spring Festival"), N_("Tomb-sweeping Day"), N_("Labour Day"),
                 N_("Dragon Boat Festival"), N_("National Day"), N_("Mid-autumn Festival"),
                 N_("Anti-Fascist 70th Day")]


@functools.cache
def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The days off the State Council's holiday rules give every year (as revised for 2025
    on): New Year 1 day, Spring Festival 4 (the eve and the first three days), Tomb-sweeping
    Day (the solar term 清明), Labour Day 2, Dragon Boat and Mid-autumn 1 each (lunar 5/5 and
    8/15), National Day 3; a holiday on a Saturday or Sunday is made up on the next working
    day (放假办法 第六条), and a Mid-autumn inside National Day keeps its own day after it.
    Which weekends become make-up working days (调休上班) is decided each year and cannot
    be derived."""
    from lunar_python import Lunar

    def solar(lunar: Lunar) -> dt.date:
        day = lunar.getSolar()
        return dt.date(day.getYear(), day.getMonth(), day.getDay())

    new_year = solar(Lunar.fromYmd(year, 1, 1))
    tomb = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    holidays: list[tuple[dt.date, str]] = [
        (dt.date(year, 1, 1), "New Year's Day"),
        *((new_year + dt.timedelta(days=offset), "Spring Festival") for offset in range(-1, 3)),
        (dt.date(tomb.getYear(), tomb.getMonth(), tomb.getDay()), "Tomb-sweeping Day"),
        (dt.date(year, 5, 1), "Labour Day"), (dt.date(year, 5, 2), "Labour Day"),
        (solar(Lunar.fromYmd(year, 5, 5)), "Dragon Boat Festival"),
        *((dt.date(year, 10, day), "National Day") for day in (1, 2, 3)),
        (solar(Lunar.fromYmd(year, 8, 15)), "Mid-autumn Festival"),
    ]
    days: dict[dt.date, str] = {}
    for day, name in holidays:  # two holidays on one date: the later one takes the next free day
        while day in days:
            day += dt.timedelta(days=1)
        days[day] = name
    for day, name in sorted(days.items()):
        if day.weekday() >= 5:  # made up on the next weekday that is not a holiday itself
            extra = day + dt.timedelta(days=1)
            while extra.weekday() >= 5 or extra in days:
                extra += dt.timedelta(days=1)
            days[extra] = name
    return {day: name for day, name in days.items() if day.year == year}


@functools.cache
def library_years() -> frozenset[int]:
    """The years chinesecalendar ships data for (it raises for any other)."""
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return frozenset(range(min(years), max(years) + 1))


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    is_working: bool
    source: str  # company | official | library | weekday | statutory (by rule) | fallback
    note: str = ""


@dataclass
class WorkingCalendar:
    official: dict[dt.date, tuple[bool, str]] = field(default_factory=dict)
    company: dict[dt.date, tuple[bool, str]] = field(default_factory=dict)
    loaded_years: frozenset[int] = frozenset()
    on_unknown_year: Callable[[int], None] | None = None
    unknown_years_used: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, on_unknown_year: Callable[[int], None] | None = None) -> WorkingCalendar:
        official: dict[dt.date, tuple[bool, str]] = {}
        company: dict[dt.date, tuple[bool, str]] = {}
        for row in session.scalars(select(CalendarDay)):
            target = company if row.source == "company" else official
            target[row.day] = (row.is_working, row.note)
        years = frozenset(session.scalars(select(CalendarYear.year)))
        return cls(official=official, company=company, loaded_years=years, on_unknown_year=on_unknown_year)

    def knows_year(self, year: int) -> bool:
        return year in self.loaded_years or year in library_years()

    def info(self, day: dt.date) -> DayInfo:
        if day in self.company:
            working, note = self.company[day]
            return DayInfo(day, working, "company", note)
        if day.year in self.loaded_years:
            if day in self.official:
                working, note = self.official[day]
                return DayInfo(day, working, "official", note)
            return DayInfo(day, day.weekday() < 5, "weekday")
        if day.year in library_years():
            working = chinese_calendar.is_workday(day)
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            if working and day.weekday() >= 5:
                return DayInfo(day, True, "library", str(name or ""))
            if not working and day.weekday() < 5:
                return DayInfo(day, False, "library", str(name or ""))
            return DayInfo(day, working, "weekday")
        if day.year not in self.unknown_years_used:
            self.unknown_years_used.add(day.year)
            if self.on_unknown_year is not None:
                self.on_unknown_year(day.year)
        holiday = statutory_holidays(day.year).get(day)
        if holiday is not None:
            return DayInfo(day, False, "statutory", holiday)
        return DayInfo(day, day.weekday() < 5, "fallback")

    def is_working_day(self, day: dt.date) -> bool:
        return self.info(day).is_working

    def nth_working_day_after(self, day: dt.date, n: int) -> dt.date:
        """The Nth working day strictly after `day` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = day
        while n:
            current += dt.timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def nth_working_day_before(self, day: dt.date, n: int) -> dt.date:
        """The Nth working day strictly before `day` (n >= 1)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = day
        while n:
            current -= dt.timedelta(days=1)
            if self.is_working_day(current):
                n -= 1
        return current

    def nth_working_day_of_month(self, year: int, month: int, n: int) -> dt.date:
        return self.nth_working_day_after(dt.date(year, month, 1) - dt.timedelta(days=1), n)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for offset in range(1, (end - start).days + 1) if self.is_working_day(start + dt.timedelta(days=offset))
        )

    def special_days(self, year: int) -> list[DayInfo]:
        """Every day of the year that differs from plain Monday-Friday, for `calendar show`."""
        result = []
        day = dt.date(year, 1, 1)
        while day.year == year:
            info = self.info(day)
            if info.source not in ("weekday", "fallback") or info.is_working != (day.weekday() < 5):
                result.append(info)
            day += dt.timedelta(days=1)
        return result


# --- the admin's files ------------------------------------------------------------------------------


NOTE_LENGTH = column_length(CalendarDay.note)
WORKING_WORDS = {"workday", "working", "work", "班", "上班", "工作日", "调休上班"}
OFF_WORDS = {"holiday", "off", "rest", "休", "休息", "假", "节假日", "放假"}


def parse_calendar_file(path: Path) -> tuple[list[tuple[dt.date, bool, str]], list[RowError]]:
    """`date,kind,note` (CSV or XLSX, as any import); kind is workday/holiday (or 班/休)."""
    rows: list[tuple[dt.date, bool, str]] = []
    errors = RowErrors()
    for row in read_table(path, ["date", "kind"], ["note"]):
        record = row.values
        long_cells = too_long(row, {"note": NOTE_LENGTH})
        if long_cells:
            errors.extend(long_cells)
            continue
        day, problem = parse_day(record["date"])
        if day is None:
            errors.append(cell_error(row, "date", problem or T("not a date.")))
            continue
        kind = record["kind"].lower()
        if kind in WORKING_WORDS:
            rows.append((day, True, record.get("note", "")))
        elif kind in OFF_WORDS:
            rows.append((day, False, record.get("note", "")))
        else:
            errors.append(RowError(row.number, T("Kind {value!r} must be workday or holiday.", value=record["kind"])))
    return rows, errors


def store_official_year(session: Session, year: int, days: Iterable[tuple[dt.date, bool, str]], source: str,
                        now: dt.datetime) -> int:
    """Replace the official arrangement of one year."""
    days = [d for d in days if d[0].year == year]
    session.execute(
        delete(CalendarDay).where(CalendarDay.source == "official", CalendarDay.day >= dt.date(year, 1, 1),
                                  CalendarDay.day <= dt.date(year, 12, 31))
    )
    session.add_all(CalendarDay(day=d, source="official", is_working=w, note=n, created_at=now) for d, w, n in days)
    existing = session.get(CalendarYear, year)
    if existing is None:
        session.add(CalendarYear(year=year, source_file=source, loaded_at=now))
    else:
        existing.source_file = source
        existing.loaded_at = now
    return len(days)


def set_company_day(session: Session, day: dt.date, is_working: bool | None, note: str, now: dt.datetime) -> None:
    """A company override (shutdown week, Saturday shift); None removes it."""
    note = CONTROL.sub("", note).strip()
    if NOTE_LENGTH is not None and len(note) > NOTE_LENGTH:
        raise UserError(T("The note is longer than {n} characters.", n=NOTE_LENGTH))
    session.execute(delete(CalendarDay).where(CalendarDay.source == "company", CalendarDay.day == day))
    if is_working is not None:
        insert_ignoring_conflicts(
            session, CalendarDay,
            [{"day": day, "source": "company", "is_working": is_working, "note": note, "created_at": now}],
        )
