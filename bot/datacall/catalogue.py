"""The metric catalogue without SQL (SPEC §1): list, change and import figures. A target is
kept per month it is valid from, so earlier months are judged by the target in force then;
names, ranges, owners and whether the monthly call asks for a figure describe the figure
from now on and change no past value."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.caller import Caller
from bot.core.i18n import pick, unit_name
from bot.core.periods import add_months, is_month
from bot.core.spreadsheets import ImportResult, RowError, RowErrors, read_table, too_long
from bot.core.texts import T, Text, UserError, join_texts
from bot.core.views import Form, FormField, Option
from bot.datacall.figures import parse_number
from storage.models import Metric, MetricTarget, Role

FIELDS = ("target", "name_zh", "name_en", "unit", "min", "max", "higher_is_better", "owner_role", "scope",
          "in_monthly_call", "active", "visibility")
NEW_METRIC_NEEDS = ("name_zh", "name_en", "unit", "min", "max", "higher_is_better", "owner_role", "scope")
UNITS = ("%", "PPM", "count", "minutes", "CNY", "score", "index")
KEY = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
TRUE = {"yes", "y", "true", "1", "是"}
FALSE = {"no", "n", "false", "0", "否"}
BEGINNING = "0000-01"  # valid from before any month: the target a metric had before its first change


def targets_in_force(session: Session, month: str, keys: list[str] | None = None) -> dict[str, float | None]:
    """Each metric's target in `month`: the latest entry valid from that month or before,
    else the catalogue's."""
    query = select(Metric.key, Metric.target)
    if keys is not None:
        query = query.where(Metric.key.in_(keys))
    result = {key: float(target) if target is not None else None for key, target in session.execute(query)}
    history = select(MetricTarget.metric_key, MetricTarget.target).where(MetricTarget.valid_from <= month)
    if keys is not None:
        history = history.where(MetricTarget.metric_key.in_(keys))
    for key, target in session.execute(history.order_by(MetricTarget.valid_from, MetricTarget.id)):
        result[key] = float(target) if target is not None else None
    return result


def catalogue(session: Session, month: str) -> list[dict[str, Any]]:
    targets = targets_in_force(session, month)
    return [{"key": m.key, "name_zh": m.name_zh, "name_en": m.name_en, "unit": m.unit, "min": float(m.min_value),
             "max": float(m.max_value), "higher_is_better": m.higher_is_better, "owner_role": m.owner_role,
             "scope": m.scope, "in_monthly_call": m.in_monthly_call, "active": m.active, "visibility": m.visibility,
             "target": targets.get(m.key)}
            for m in session.scalars(select(Metric).order_by(Metric.sort_order, Metric.key))]


@dataclass(frozen=True)
class Changed:
    key: str
    changed: dict[str, tuple[str, str]]  # field -> (before, after)
    created: bool = False


def _text(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "—" if value is None else str(value)


def _parse(session: Session, field: str, raw: str) -> tuple[Any, Text | None]:
    text = raw.strip()
    if field in ("target", "min", "max"):
        if field == "target" and text in ("", "-", "—", "none"):
            return None, None
        number = parse_number(text)
        return (number, None) if number is not None else (None, T("{field}: {value!r} is not a number.",
                                                                   field=field, value=raw))
    if field in ("higher_is_better", "in_monthly_call", "active"):
        if text.lower() in TRUE:
            return True, None
        if text.lower() in FALSE:
            return False, None
        return None, T("{field}: {value!r}: use yes or no.", field=field, value=raw)
    if field == "owner_role":
        if session.get(Role, text) is None:
            roles = list(session.scalars(select(Role.key)))
            near = difflib.get_close_matches(text, roles, n=1)
            return None, (T("owner_role: unknown role {value!r}; did you mean {near}?", value=raw, near=near[0])
                          if near else T("owner_role: unknown role {value!r}. Known: {known}", value=raw,
                                         known=", ".join(roles)))
        return text, None
    if field == "scope" and text not in ("customer", "company"):
        return None, T("scope: {value!r}: use customer or company.", value=raw)
    if field == "visibility" and text not in ("all", "costs"):
        return None, T("visibility: {value!r}: use all or costs.", value=raw)
    if field == "unit" and text not in UNITS:
        return None, T("unit: {value!r}: use one of {units}.", value=raw, units=", ".join(UNITS))
    if field in ("name_zh", "name_en") and not (0 < len(text) <= 200):
        return None, T("{field}: a name of 1 to 200 characters.", field=field)
    return text, None


def unknown_field(field: str) -> Text:
    near = difflib.get_close_matches(field, FIELDS, n=1)
    return (T("Unknown field {field!r}: did you mean {near}?", field=field, near=near[0]) if near
            else T("Unknown field {field!r}. Known: {known}", field=field, known=", ".join(FIELDS)))


def change_metric(session: Session, key: str, changes: dict[str, str], valid_from: str, now: dt.datetime,
                  by: int | None = None) -> Changed:
    """Changes one metric; a target from `valid_from` on. All the problems at once, nothing
    stored unless all is well."""
    metric = session.get(Metric, key)
    if metric is None:
        keys = list(session.scalars(select(Metric.key)))
        near = difflib.get_close_matches(key, keys, n=1)
        raise UserError(T("Unknown figure {value!r}; did you mean {near}?", value=key, near=near[0]) if near
                        else T("Unknown figure {value!r}.", value=key))
    problems, values = _check(session, changes, metric)
    if problems:
        raise UserError(T("The figure was not changed: {problems}", problems=join_texts(problems)))
    return _apply(session, metric, values, valid_from, now, by, created=False)


def _check(session: Session, changes: dict[str, str], metric: Metric | None) -> tuple[list[Text], dict[str, Any]]:
    problems: list[Text] = []
    values: dict[str, Any] = {}
    for field, raw in changes.items():
        if field not in FIELDS:
            problems.append(unknown_field(field))
            continue
        value, problem = _parse(session, field, raw)
        if problem is not None:
            problems.append(problem)
        else:
            values[field] = value
    if metric is not None and "unit" in values and values["unit"] != metric.unit:
        problems.append(T("unit: a figure's unit cannot change (its history is in {unit}); add a new figure.",
                          unit=metric.unit))
    if metric is not None and "scope" in values and values["scope"] != metric.scope:
        problems.append(T("scope: a figure's scope cannot change; add a new figure."))
    low = values.get("min", metric.min_value if metric is not None else None)
    high = values.get("max", metric.max_value if metric is not None else None)
    if low is not None and high is not None and low >= high:
        problems.append(T("min {low} must be below max {high}.", low=_text(low), high=_text(high)))
    target = values.get("target")
    if target is not None and low is not None and high is not None and not low <= target <= high:
        problems.append(T("target {target} lies outside {low}–{high}.", target=_text(target), low=_text(low),
                          high=_text(high)))
    return problems, values


def _apply(session: Session, metric: Metric, values: dict[str, Any], valid_from: str, now: dt.datetime,
           by: int | None, created: bool) -> Changed:
    if not is_month(valid_from):
        raise UserError(T("Month {value!r} is not YYYY-MM.", value=valid_from))
    changed: dict[str, tuple[str, str]] = {}
    columns = {"min": "min_value", "max": "max_value"}
    for field, value in values.items():
        if field == "target":
            before = targets_in_force(session, valid_from, [metric.key]).get(metric.key)
            if (before is None and value is None) or (before is not None and value is not None
                                                      and Decimal(str(before)) == value):
                continue
            if session.scalar(select(MetricTarget.id).where(MetricTarget.metric_key == metric.key).limit(1)) is None:
                # the first change: the target so far stays in force for every earlier month
                session.add(MetricTarget(metric_key=metric.key, valid_from=BEGINNING, target=metric.target,
                                         set_at=now, set_by_id=by))
            entry = session.scalar(select(MetricTarget).where(MetricTarget.metric_key == metric.key,
                                                              MetricTarget.valid_from == valid_from))
            if entry is None:
                entry = MetricTarget(metric_key=metric.key, valid_from=valid_from)
                session.add(entry)
            entry.target, entry.set_at, entry.set_by_id = value, now, by
            latest = session.scalar(select(func.max(MetricTarget.valid_from)).where(
                MetricTarget.metric_key == metric.key))
            if latest is None or valid_from >= latest:
                metric.target = value  # the catalogue shows the newest
            changed["target"] = (_text(Decimal(str(before)) if before is not None else None), _text(value))
            continue
        column = columns.get(field, field)
        before_value = getattr(metric, column)
        if before_value != value:
            setattr(metric, column, value)
            changed[field] = (_text(before_value), _text(value))
    session.flush()
    return Changed(metric.key, changed, created)


def import_metrics(session: Session, path: Path, valid_from: str, now: dt.datetime, by: int | None = None
                   ) -> ImportResult:
    """`key` and any of the fields; a new key needs name_zh, name_en, unit, min, max,
    higher_is_better, owner_role and scope. All or nothing."""
    rows = read_table(path, ["key"], optional=list(FIELDS))
    errors = RowErrors()
    planned: list[tuple[str, dict[str, Any], bool]] = []
    seen: dict[str, int] = {}
    existing = {m.key: m for m in session.scalars(select(Metric))}
    for row in rows:
        errors.extend(too_long(row, {"name_zh": 200, "name_en": 200}))
        key = row.values["key"].strip()
        changes = {f: row.values[f] for f in FIELDS if row.values.get(f, "").strip()}
        metric = existing.get(key)
        if not KEY.match(key):
            errors.append(RowError(row.number, T("Key {value!r}: use lower-case letters, digits, _ and .",
                                                 value=key)))
            continue
        if key in seen:
            errors.append(RowError(row.number, T("The same figure is already in row {row}.", row=seen[key])))
            continue
        seen[key] = row.number
        if metric is None and (missing := [f for f in NEW_METRIC_NEEDS if f not in changes]):
            errors.append(RowError(row.number, T("{key} is a new figure and needs {fields}.", key=key,
                                                 fields=", ".join(missing))))
            continue
        problems, values = _check(session, changes, metric)
        errors.extend(RowError(row.number, p) for p in problems)
        if not problems:
            planned.append((key, values, metric is None))
    if errors:
        return ImportResult(errors=errors)
    created = updated = unchanged = 0
    order = (session.scalar(select(func.max(Metric.sort_order))) or 0) + 1
    for key, values, new in planned:
        metric = existing.get(key)
        if new:
            metric = Metric(key=key, name_zh=values["name_zh"], name_en=values["name_en"], unit=values["unit"],
                            min_value=values["min"], max_value=values["max"],
                            higher_is_better=values["higher_is_better"], owner_role=values["owner_role"],
                            scope=values["scope"], visibility=values.get("visibility", "all"),
                            in_monthly_call=values.get("in_monthly_call", True), target=None,
                            active=values.get("active", True), sort_order=order)
            order += 1
            session.add(metric)
            session.flush()
        assert metric is not None
        result = _apply(session, metric, values, valid_from, now, by, created=new)
        created += new
        updated += bool(result.changed) and not new
        unchanged += not result.changed and not new
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def target_form(session: Session, caller: Caller, key: str, this_month: str) -> Form:
    """A figure's target from a month on (this month or one of the next twelve)."""
    _ = caller._
    metric = session.get(Metric, key)
    if metric is None:
        raise UserError(T("Unknown figure {value!r}.", value=key))
    months = [add_months(this_month, i) for i in range(0, 13)]
    target = targets_in_force(session, this_month, [key]).get(key)
    name = pick(caller.locale, metric.name_zh, metric.name_en)
    return Form(kind="metrics.target", title=_("Change target"), submit=_("Save"), close=_("Cancel"), fields=[
        FormField("valid_from", _("Valid from"), "select", initial=months[0], options=[Option(m, m) for m in months],
                  hint=_("Months before it keep the target they were judged by.")),
        FormField("target", _("Target ({unit})").format(unit=unit_name(_, metric.unit)), "number",
                  initial=_text(Decimal(str(target))) if target is not None else None,
                  min_value=float(metric.min_value), max_value=float(metric.max_value),
                  hint=_("{direction}; valid {low}–{high}").format(
                      direction=_("higher is better") if metric.higher_is_better else _("lower is better"),
                      low=_text(metric.min_value), high=_text(metric.max_value))),
    ], intro=name, state={"key": key})
