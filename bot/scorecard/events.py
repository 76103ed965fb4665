"""Scorecard events: recording, correcting (the earlier version stays), importing, and the
form a customer owner or quality engineer fills in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.core.caller import Caller
from bot.core.i18n import pick
from bot.core.periods import add_months, month_of, month_start
from bot.core.spreadsheets import ImportResult, RowError, RowErrors, cell_error, parse_day, read_table
from bot.core.texts import T, Text
from bot.core.views import Form, FormField, Option, fit_initial_values
from bot.people.customers import customer_label, customer_lookup
from bot.scorecard.book import load_rule_sets, rule_set_for
from bot.scorecard.engine import RuleSet
from storage.models import Complaint, Customer, ScorecardEvent

MAX_COUNT = 99


def event_type_options(session: Session, locale: str, on: dt.date) -> list[Option]:
    """Event types of the rule set in force, grouped quality/delivery, labelled in the reader's language."""
    _ = Caller("", locale)._
    rules = rule_set_for(load_rule_sets(session), month_of(on))
    groups = {"quality": _("Quality performance"), "delivery": _("Delivery performance")}
    return [Option(rule.event_type, f"{pick(locale, rule.name_zh, rule.name_en)} (−{rule.points:g})",
                   group=groups[rule.category])
            for rule in sorted(rules.events.values(), key=lambda r: (r.category != "quality", r.points))]


def event_form(session: Session, caller: Caller, today: dt.date, customer: Customer | None = None,
               event: ScorecardEvent | None = None, complaint_number: str | None = None) -> Form:
    """New event, or a correction of `event` (then a reason is required)."""
    _ = caller._
    initial_customer = customer or (session.get(Customer, event.customer_id) if event else None)
    fields = [
        FormField("customer", _("Customer"), "customer", initial=initial_customer.code if initial_customer else None,
                  options=[Option(initial_customer.code, customer_label(initial_customer, caller.locale))]
                  if initial_customer else [], placeholder=_("Type a code or a name")),
        FormField("date", _("Date"), "date", initial=(event.event_date if event else today).isoformat()),
        FormField("type", _("Event"), "select", options=event_type_options(session, caller.locale, today),
                  initial=event.event_type if event else None),
        FormField("count", _("Count"), "number", initial=str(event.count) if event else "1", min_value=0,
                  max_value=MAX_COUNT, hint=_("How many times it happened; 0 withdraws a recorded event.")),
        FormField("note", _("Note"), "multiline", required=False, initial=event.note if event else None,
                  max_length=2000),
        FormField("complaint", _("Complaint number"), "text", required=False, placeholder="KS-2026-0042",
                  initial=complaint_number or _complaint_number(session, event)),
    ]
    if event is not None:
        fields.append(FormField("reason", _("Reason for the correction"), "multiline", max_length=1000))
    return fit_initial_values(Form(
        kind="scorecard.event", title=_("Correct event") if event else _("Record event"),
        submit=_("Save"), close=_("Cancel"), fields=fields,
        intro=_("Events cost the customer's monthly score the points of the rule set in force."),
        state={"event_id": event.id if event else None},
    ), _)


def _complaint_number(session: Session, event: ScorecardEvent | None) -> str | None:
    if event is None or event.complaint_id is None:
        return None
    complaint = session.get(Complaint, event.complaint_id)
    return complaint.number if complaint else None


def event_type_label(session: Session, event_type: str, on: dt.date, locale: str) -> str:
    rule = rule_set_for(load_rule_sets(session), month_of(on)).events.get(event_type)
    return pick(locale, rule.name_zh, rule.name_en) if rule else event_type


@dataclass
class NewEvent:
    customer: Customer
    event_date: dt.date
    event_type: str
    count: int
    note: str | None
    complaint_id: int | None
    reason: str | None


# 004 §7.1: deductions "additional" to an event of the same month, and the events they add to
QUALITY_BASES = ("partial_return", "full_return", "concession", "repeat_notice", "line_hold", "production_stop")
LATE_BASES = ("late_notified", "late_unnotified")
ADDS_TO: dict[str, tuple[str, ...]] = {
    "quality_notice_rectification": QUALITY_BASES, "quality_notice_suspension": QUALITY_BASES,
    "late_complaint": LATE_BASES, "late_interruption": LATE_BASES,
    "delivery_notice_rectification": (*LATE_BASES, "packaging_nonconformity"),
    "delivery_notice_suspension": (*LATE_BASES, "packaging_nonconformity"),
}


def has_base_event(session: Session, data: NewEvent, pending: list[NewEvent] | None = None) -> bool:
    """Whether the event an additional deduction adds to is there: recorded for the same
    customer in the same month, or among the rows of the same import."""
    bases = ADDS_TO.get(data.event_type)
    if bases is None:
        return True
    month = month_of(data.event_date)
    if any(p.customer.id == data.customer.id and p.event_type in bases and month_of(p.event_date) == month
           and p.count > 0 for p in pending or []):
        return True
    first = month_start(month)
    found = session.scalar(select(ScorecardEvent.id).where(
        ScorecardEvent.customer_id == data.customer.id, ScorecardEvent.event_type.in_(bases),
        ScorecardEvent.is_current.is_(True), ScorecardEvent.count > 0, ScorecardEvent.event_date >= first,
        ScorecardEvent.event_date < month_start(add_months(month, 1))).limit(1))
    return found is not None


def base_missing(rules: RuleSet, event_type: str, locale: str | None) -> Text:
    names = "、".join(pick(locale, rules.events[b].name_zh, rules.events[b].name_en)
                     for b in ADDS_TO[event_type] if b in rules.events)
    return T("This deduction adds to an event of the same month for this customer ({bases}); record that event "
             "first.", bases=names)


@dataclass
class Lookups:
    """Loaded once for a whole import rather than once per row."""

    customers: dict[str, Customer]
    rule_sets: list[RuleSet]

    @classmethod
    def load(cls, session: Session) -> Lookups:
        return cls(customer_lookup(session), load_rule_sets(session))


def validate_event(session: Session, values: dict[str, object], today: dt.date,
                   correcting: bool, lookups: Lookups | None = None, locale: str | None = None,
                   check_base: bool = True) -> tuple[NewEvent | None, dict[str, Text]]:
    """Field errors keyed like the form's fields, so the dialog shows each where it was typed.
    An additional deduction needs its base event (an import checks that once it has read
    every row: `check_base=False`)."""
    lookups = lookups or Lookups.load(session)
    errors: dict[str, Text] = {}
    customer = None
    code = str(values.get("customer") or "").strip()
    if not code:
        errors["customer"] = T("Choose a customer.")
    else:
        customer = lookups.customers.get(code.lower())
        if customer is None:
            errors["customer"] = T("Unknown customer {value!r}.", value=code)
    event_date = None
    try:
        event_date = dt.date.fromisoformat(str(values.get("date") or ""))
        if event_date > today:
            errors["date"] = T("The date is in the future.")
    except ValueError:
        errors["date"] = T("Choose a date.")
    event_type = str(values.get("type") or "")
    if event_type:
        rules = rule_set_for(lookups.rule_sets, month_of(event_date or today))
        if event_type not in rules.events:
            errors["type"] = T("{value!r} is not an event type of the rules in force then.", value=event_type)
    else:
        errors["type"] = T("Choose an event type.")
    count = None
    raw_count = str(values.get("count") or "").strip()
    try:
        count = int(raw_count)
        if not 0 <= count <= MAX_COUNT or (count == 0 and not correcting):
            errors["count"] = T("Enter a whole number from {low} to {high}.", low=0 if correcting else 1,
                                high=MAX_COUNT)
    except ValueError:
        errors["count"] = T("Enter a whole number from {low} to {high}.", low=0 if correcting else 1, high=MAX_COUNT)
    complaint_id = None
    number = str(values.get("complaint") or "").strip()
    if number:
        complaint_id = session.scalar(select(Complaint.id).where(Complaint.number == number.upper()))
        if complaint_id is None:
            errors["complaint"] = T("No complaint {value} exists.", value=number)
    reason = str(values.get("reason") or "").strip() or None
    if correcting and not reason:
        errors["reason"] = T("Say why the event is corrected; the earlier version is kept.")
    if errors or customer is None or event_date is None or count is None:
        return None, errors
    note = str(values.get("note") or "").strip() or None
    data = NewEvent(customer, event_date, event_type, count, note, complaint_id, reason)
    if check_base and count > 0 and not has_base_event(session, data):
        rules = rule_set_for(lookups.rule_sets, month_of(event_date))
        return None, {"type": base_missing(rules, event_type, locale)}
    return data, {}


def record_event(session: Session, data: NewEvent, by: int | None, now: dt.datetime, source: str,
                 supersedes: ScorecardEvent | None = None) -> ScorecardEvent:
    if supersedes is not None:
        session.execute(update(ScorecardEvent).where(ScorecardEvent.id == supersedes.id).values(is_current=False))
    event = ScorecardEvent(
        customer_id=data.customer.id, event_date=data.event_date, event_type=data.event_type, count=data.count,
        note=data.note, complaint_id=data.complaint_id, source=source, entered_by_id=by, entered_at=now,
        supersedes_id=supersedes.id if supersedes else None, is_current=True, reason=data.reason,
    )
    session.add(event)
    session.flush()
    return event


def event_history(session: Session, event_id: int) -> list[ScorecardEvent]:
    """An event and every version before it, newest first."""
    chain = []
    current = session.get(ScorecardEvent, event_id)
    while current is not None:
        chain.append(current)
        current = session.get(ScorecardEvent, current.supersedes_id) if current.supersedes_id else None
    return chain




def import_events(session: Session, path: Path, now: dt.datetime, by: int | None = None,
                  today: dt.date | None = None, locale: str | None = None) -> ImportResult:
    """`customer,date,type,count,note`; all or nothing; an identical event already imported
    is skipped; an additional deduction's base event may be in the file or recorded before."""
    rows = read_table(path, ["customer", "date", "type", "count"], ["note"])
    today = today or now.date()
    lookups = Lookups.load(session)
    records: list[NewEvent] = []
    numbers: list[int] = []
    errors = RowErrors()
    customer_names = sorted({c.code for c in lookups.customers.values()})
    for row in rows:
        day, day_problem = parse_day(row.values.get("date", ""))
        values = {"customer": row.values.get("customer", ""), "date": day.isoformat() if day else "",
                  "type": row.values.get("type", "").strip(), "count": row.values.get("count", ""),
                  "note": row.values.get("note", "")}
        data, field_errors = validate_event(session, values, today, correcting=False, lookups=lookups,
                                            locale=locale, check_base=False)
        for field_name, message in field_errors.items():
            if field_name == "date" and day_problem is not None:
                errors.append(cell_error(row, "date", day_problem))
            elif field_name == "customer":
                errors.append(cell_error(row, "customer", T("no customer has this code or name."), customer_names))
            elif field_name == "type":
                rules = rule_set_for(lookups.rule_sets, month_of(day or today))
                errors.append(cell_error(row, "type", T("not an event type of the rules in force then."),
                                         sorted(rules.events)))
            else:
                errors.append(cell_error(row, field_name, message))
        if data is not None:
            records.append(data)
            numbers.append(row.number)
    for data, number in zip(records, numbers, strict=True):
        if not has_base_event(session, data, records):
            rules = rule_set_for(lookups.rule_sets, month_of(data.event_date))
            errors.append(RowError(number, T("Column {column}: {message}", column="type",
                                             message=base_missing(rules, data.event_type, locale))))
    if errors:
        return ImportResult(errors=errors)
    created = skipped = 0
    for data in records:
        duplicate = session.scalar(select(ScorecardEvent.id).where(
            ScorecardEvent.customer_id == data.customer.id, ScorecardEvent.event_date == data.event_date,
            ScorecardEvent.event_type == data.event_type, ScorecardEvent.count == data.count,
            ScorecardEvent.is_current.is_(True), ScorecardEvent.source == "import",
            (ScorecardEvent.note == data.note) if data.note is not None else ScorecardEvent.note.is_(None)))
        if duplicate is not None:
            skipped += 1
            continue
        record_event(session, data, by, now, "import")
        created += 1
    return ImportResult(created=created, skipped=skipped)

