"""Monthly figures: every submission is a new version; the earlier ones stay."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.i18n import UNIT_NAMES
from bot.core.periods import MONTH
from bot.core.spreadsheets import ImportResult, RowError, RowErrors, cell_error, read_table
from bot.core.texts import T, Text
from bot.people.customers import customer_lookup
from storage.models import FigureSubmission, Metric


def series_key(metric: str, period: str, customer_id: int | None) -> str:
    return f"{metric}|{period}|{customer_id if customer_id is not None else '-'}"


THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")  # no exponents, underscores, inf or nan
# decimal places a figure keeps, by unit (the store keeps 6): more is refused, never rounded silently
DECIMALS = {"count": 0, "minutes": 0, "%": 2, "PPM": 2, "CNY": 2, "score": 2, "index": 3}
STORED_DECIMALS = 6


def parse_number(raw: str) -> Decimal | None:
    """What people type: `1,234.5`, `１２３`, `95%`, ` 12 `. A comma is a thousands
    separator only where it separates thousands: `1,5` is refused, not read as 15; `1e-30`
    and `1_000` are refused too, though Python would read them."""
    text = raw.strip().replace("，", ",").replace("％", "%").rstrip("%").strip()
    text = text.translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-"))
    if "," in text:
        if not THOUSANDS.match(text):
            return None
        text = text.replace(",", "")
    if not PLAIN_NUMBER.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# figures that describe one thing together: a number of stoppages and the minutes they took
PAIRED = {"customer_line_stops": "customer_line_stop_minutes", "line_stops": "line_stop_minutes"}
PARTNER = {**PAIRED, **{minutes: count for count, minutes in PAIRED.items()}}  # each half of a pair to the other


def pair_problems(values: dict[tuple[str, int | None], Decimal]) -> dict[tuple[str, int | None], Text]:
    """Paired figures checked together, on what is typed and stored: stoppages need their
    minutes and minutes need stoppages. Keyed by the figure to correct."""
    problems: dict[tuple[str, int | None], Text] = {}
    for (metric, customer), count in values.items():
        minutes_key = PAIRED.get(metric)
        if minutes_key is None:
            continue
        minutes = values.get((minutes_key, customer))
        if count > 0 and (minutes is None or minutes <= 0):
            problems[(minutes_key, customer)] = T("{n} stoppage(s) need the minutes they took.", n=int(count))
        elif count == 0 and minutes is not None and minutes > 0:
            problems[(metric, customer)] = T("{minutes} minutes of stoppage need the number of stoppages.",
                                             minutes=int(minutes))
    for (metric, customer), minutes in values.items():
        count_key = PARTNER.get(metric) if metric not in PAIRED else None
        if count_key is not None and (count_key, customer) not in values and minutes > 0:
            problems[(count_key, customer)] = T("{minutes} minutes of stoppage need the number of stoppages.",
                                                minutes=int(minutes))
    return problems


def unit_problem(metric: Metric, raw: str) -> Text | None:
    """A percent sign on a figure that is not a percentage (`50%` for a PPM) is a wrong unit,
    not a number to take without it."""
    if metric.unit != "%" and raw.strip().endswith(("%", "％")):
        return T("{value!r}: {unit} figures take no % sign.", value=raw.strip(),
                 unit=Text(UNIT_NAMES[metric.unit]) if metric.unit in UNIT_NAMES else metric.unit)
    return None


def decimal_places(value: Decimal) -> int:
    """`12.50` has one that matters, `12.3456789` seven."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_value(metric: Metric, value: Decimal) -> Text | None:
    if value < metric.min_value or value > metric.max_value:
        return T("{value} is outside the valid range {low}–{high} {unit}.", value=_plain(value),
                 low=_plain(metric.min_value), high=_plain(metric.max_value),
                 unit=Text(UNIT_NAMES[metric.unit]) if metric.unit in UNIT_NAMES else metric.unit)
    places = DECIMALS.get(metric.unit, STORED_DECIMALS)
    if places == 0 and value != value.to_integral_value():
        return T("{value} must be a whole number.", value=_plain(value))
    if decimal_places(value) > places:
        return T("{value} has more decimal places than this figure keeps ({places} at most).",
                 value=_plain(value), places=places)
    return None


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


@dataclass
class Recorded:
    changed: bool
    version: int
    previous: Decimal | None


def record_figure(session: Session, metric: str, period: str, customer_id: int | None, value: Decimal,
                  now: dt.datetime, *, by: int | None, source: str, reason: str | None = None,
                  on_behalf_of: int | None = None, note: str | None = None) -> Recorded:
    """Add a version unless the value is unchanged; the previous version stays, marked not current."""
    key = series_key(metric, period, customer_id)
    current = session.scalar(select(FigureSubmission).where(FigureSubmission.series_key == key,
                                                            FigureSubmission.is_current.is_(True)))
    if current is not None and current.value == value:
        return Recorded(False, current.version, current.value)
    version = (session.scalar(select(func.max(FigureSubmission.version)).where(FigureSubmission.series_key == key))
               or 0) + 1
    if current is not None:
        session.execute(update(FigureSubmission).where(FigureSubmission.id == current.id).values(is_current=False))
    session.add(FigureSubmission(
        series_key=key, metric_key=metric, period=period, customer_id=customer_id, value=value, version=version,
        is_current=True, submitted_by_id=by, on_behalf_of_id=on_behalf_of, submitted_at=now, source=source,
        reason=reason, note=note,
    ))
    session.flush()
    return Recorded(True, version, current.value if current is not None else None)




def _pair_errors(session: Session, records: list[tuple[str, str, int | None, Decimal]],
                 rows: dict[str, int]) -> list[RowError]:
    """Paired figures in a file, checked with what each month already holds."""
    months = {month for metric, month, _c, _v in records if metric in PARTNER}
    errors: list[RowError] = []
    for month in sorted(months):
        values = {(s.metric_key, s.customer_id): s.value for s in session.scalars(select(FigureSubmission).where(
            FigureSubmission.period == month, FigureSubmission.is_current.is_(True),
            FigureSubmission.metric_key.in_(list(PARTNER))))}
        values.update({(metric, customer): value for metric, m, customer, value in records
                       if m == month and metric in PARTNER})
        for (metric, customer), problem in pair_problems(values).items():
            row = rows.get(series_key(metric, month, customer)) or rows.get(series_key(PARTNER[metric], month,
                                                                                        customer))
            if row is not None:
                errors.append(RowError(row, problem))
    return errors


def import_figures(session: Session, path: Path, now: dt.datetime, by: int | None = None,
                   owed: Callable[[str, str, int | None], int | None] | None = None,
                   closed: Callable[[str], Text | None] | None = None) -> ImportResult:
    """`metric,month,customer,value`; customer empty for company-wide figures. All or nothing.
    `owed(metric, month, customer_id)`: for a person's own upload, on whose behalf they owe the
    figure (their own id, or the person they stand in for), None for a figure not theirs.
    `closed(month)`: why a month cannot be handed in now (the dialog's rule), if it cannot."""
    behalf: dict[str, int] = {}
    rows = read_table(path, ["metric", "month", "customer", "value"])
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    customers = customer_lookup(session)
    records: list[tuple[str, str, int | None, Decimal]] = []
    errors = RowErrors()
    seen: dict[str, int] = {}
    left_empty = 0
    for row in rows:
        v = row.values
        if not v["value"].strip():  # a row of the Excel form whose figure is not known yet
            left_empty += 1
            continue
        row_errors: list[RowError] = []
        metric = metrics.get(v["metric"].strip())
        if metric is None:
            row_errors.append(cell_error(row, "metric", T("not a figure csatbot knows (use its key)."),
                                         sorted(metrics)))
        month = v["month"].strip()[:7]
        if not MONTH.match(month):
            row_errors.append(cell_error(row, "month", T("not a month: write it as YYYY-MM, e.g. 2026-09.")))
        elif month > f"{now.year:04d}-{now.month:02d}":
            row_errors.append(RowError(row.number, T("{month} has not begun yet.", month=month)))
        elif closed is not None and (why := closed(month)) is not None:
            row_errors.append(cell_error(row, "month", why))
        customer_text = v["customer"].strip()
        customer = customers.get(customer_text.lower()) if customer_text else None
        if customer_text and customer is None:
            row_errors.append(cell_error(row, "customer", T("no customer has this code or name."),
                                         sorted({c.code for c in customers.values()})))
        if metric is not None:
            if metric.scope == "customer" and not customer_text:
                row_errors.append(RowError(row.number, T("{metric} is a per-customer figure: the customer is empty.",
                                                         metric=metric.key)))
            if metric.scope == "company" and customer_text:
                row_errors.append(RowError(row.number, T("{metric} is a company-wide figure: leave customer empty.",
                                                         metric=metric.key)))
        value = parse_number(v["value"])
        if value is None:
            row_errors.append(cell_error(row, "value", T("not a number.")))
        elif metric is not None:
            problem = unit_problem(metric, v["value"]) or check_value(metric, value)
            if problem:
                row_errors.append(RowError(row.number, problem))
        if not row_errors and metric is not None and value is not None and owed is not None:
            whose = owed(metric.key, month, customer.id if customer else None)
            if whose is None:
                row_errors.append(cell_error(row, "metric", T("not one of the figures you are asked for in {month}.",
                                                              month=month)))
            else:
                behalf[series_key(metric.key, month, customer.id if customer else None)] = whose
        if not row_errors and metric is not None and value is not None:
            key = series_key(metric.key, month, customer.id if customer else None)
            if key in seen:
                row_errors.append(RowError(row.number, T("The same figure is already in row {row}.", row=seen[key])))
            seen[key] = row.number
            records.append((metric.key, month, customer.id if customer else None, value))
        errors.extend(row_errors)
    errors.extend(_pair_errors(session, records, seen))
    if errors:
        return ImportResult(errors=errors)
    created = unchanged = 0
    for metric_key, month, customer_id, value in records:
        on_behalf_of = behalf.get(series_key(metric_key, month, customer_id))
        result = record_figure(session, metric_key, month, customer_id, value, now, by=by, source="import",
                               reason=f"import {path.name}", on_behalf_of=on_behalf_of if on_behalf_of != by else None)
        created += result.changed
        unchanged += not result.changed
    return ImportResult(created=created, unchanged=unchanged, skipped=left_empty,
                        periods={month for _metric, month, _customer, _value in records})
