"""After-sales quality revisits (SPEC §8, 004 §5.1): the customer is revisited, and the visit
recorded, for the first batch after a product change, a new product within three months of
its first delivery, a product accepted under concession, and the first batch after an
improvement. Each revisit is a row with a stable trigger key (an import or an action never
adds it twice); the customer's owner is told when it is due and chased on working days
until it is recorded; problems found open a corrective action."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.i18n import N_, Gettext, gettext_for, pick
from bot.core.spreadsheets import ImportResult, RowError, RowErrors, read_table, too_long
from bot.core.stored_settings import data_call_settings
from bot.core.texts import T, Text
from bot.core.views import Actions, Button, Card, Field, FieldList, FormField, Message, Option, Paragraph
from bot.people.customers import customer_lookup
from bot.people.identities import address_of
from storage.db import insert_ignoring_conflicts
from storage.models import Customer, Person, Revisit

REASONS = {"change_first_batch": N_("first batch after a product change"),
           "new_product": N_("new product, within three months of its first delivery"),
           "concession": N_("product accepted under concession"),
           "after_improvement": N_("first batch after an improvement")}
REASON_WORDS = {**{k: k for k in REASONS}, "变更": "change_first_batch", "新产品": "new_product",
                "让步": "concession", "让步接收": "concession", "改进": "after_improvement"}
ACTION_COLUMN = Revisit.from_action.property.columns[0].name  # the table's name for it
DUE_WORKING_DAYS = 10  # an import without a due date: this many working days from the import


def open_revisit(session: Session, key: str, customer_id: int, product: str, reason: str, due: dt.date,
                 source: str, now: dt.datetime, note: str | None = None, action: int | None = None) -> bool:
    """A revisit owed; False when the same trigger added it before."""
    return bool(insert_ignoring_conflicts(session, Revisit, [{
        "trigger_key": key, "customer_id": customer_id, "product": product[:200], "reason": reason,
        ACTION_COLUMN: action, "due_date": due, "status": "due", "note": note, "source": source,
        "created_at": now}]))


def import_revisits(session: Session, path: Path, now: dt.datetime, today: dt.date) -> ImportResult:
    """`customer, product, reason` with optional `due` (YYYY-MM-DD) and `note`; all or nothing;
    the same row again adds nothing."""
    rows = read_table(path, ["customer", "product", "reason"], optional=["due", "note"])
    customers = customer_lookup(session)
    calendar = WorkingCalendar.load(session)
    errors = RowErrors()
    planned: list[dict[str, Any]] = []
    for row in rows:
        v = row.values
        before = len(errors)
        errors.extend(too_long(row, {"product": 200, "note": 2000}))
        customer = customers.get(v["customer"].strip().lower())
        if customer is None:
            errors.append(RowError(row.number, T("Unknown customer {value!r}.", value=v["customer"])))
        product = v["product"].strip()
        if not product:
            errors.append(RowError(row.number, T("Name the product.")))
        reason = REASON_WORDS.get(v["reason"].strip().lower()) or REASON_WORDS.get(v["reason"].strip())
        if reason is None:
            errors.append(RowError(row.number, T("Reason {value!r}: use {reasons}.", value=v["reason"],
                                                 reasons=", ".join(REASONS))))
        due_text = (v.get("due") or "").strip()
        due = None
        if due_text:
            try:
                due = dt.date.fromisoformat(due_text[:10])
            except ValueError:
                errors.append(RowError(row.number, T("Due {value!r} is not a date (YYYY-MM-DD).", value=due_text)))
        if len(errors) > before or customer is None or reason is None:
            continue
        due = due or calendar.nth_working_day_after(today, DUE_WORKING_DAYS)
        planned.append({"key": f"import:{customer.code}:{product.lower()}:{reason}:{due.isoformat()}",
                        "customer": customer.id, "product": product, "reason": reason, "due": due,
                        "note": (v.get("note") or "").strip() or None})
    if errors:
        return ImportResult(errors=errors)
    created = sum(open_revisit(session, p["key"], p["customer"], p["product"], p["reason"], p["due"], "import", now,
                               p["note"]) for p in planned)
    return ImportResult(created=created, skipped=len(planned) - created)


def listing(session: Session, status: str = "due", customer_id: int | None = None) -> list[dict[str, Any]]:
    query = (select(Revisit, Customer.code, Person.name).join(Customer, Customer.id == Revisit.customer_id)
             .outerjoin(Person, Person.id == Revisit.recorded_by_id).order_by(Revisit.due_date, Revisit.id))
    if status != "all":
        query = query.where(Revisit.status == status)
    if customer_id is not None:
        query = query.where(Revisit.customer_id == customer_id)
    return [{"id": r.id, "customer": code, "product": r.product, "reason": r.reason, "due": r.due_date.isoformat(),
             "status": r.status, "source": r.source, "action": r.from_action, "note": r.note,
             "visited_on": r.visited_on.isoformat() if r.visited_on else None, "met_whom": r.met_whom,
             "customer_said": r.customer_said, "problems": r.problems, "recorded_by": name}
            for r, code, name in session.execute(query)]


def revisit_summary(session: Session, revisit: Revisit, locale: str) -> list[Field]:
    _ = gettext_for(locale)
    customer = session.get(Customer, revisit.customer_id)
    name = pick(locale, customer.name_zh, customer.name_en) if customer else "?"
    return [Field(_("Customer"), f"{customer.code if customer else '?'} · {name}"),
            Field(_("Product"), revisit.product), Field(_("Why"), _(REASONS.get(revisit.reason, revisit.reason))),
            Field(_("Due"), revisit.due_date.isoformat())]


def record_fields(_: Gettext, today: dt.date) -> list[FormField]:
    return [FormField("visited_on", _("Visited on"), "date", initial=today.isoformat()),
            FormField("met_whom", _("Whom you met"), "text", max_length=200),
            FormField("customer_said", _("What the customer said"), "multiline", max_length=4000),
            FormField("problems", _("Problems found (empty: none)"), "multiline", required=False, max_length=4000),
            FormField("follow_up", _("Follow-up for the problems"), "select", required=False, options=[
                Option("none", _("none")), Option("action", _("open a corrective action"))])]


def check_record(values: dict[str, Any], today: dt.date) -> tuple[dict[str, Any], dict[str, Text]]:
    errors: dict[str, Text] = {}
    data: dict[str, Any] = {}
    try:
        visited = dt.date.fromisoformat(str(values.get("visited_on") or ""))
        if visited > today:
            errors["visited_on"] = T("It is in the future.")
        data["visited_on"] = visited
    except ValueError:
        errors["visited_on"] = T("Choose the day of the visit.")
    for key, limit in (("met_whom", 200), ("customer_said", 4000), ("problems", 4000)):
        text = str(values.get(key) or "").strip()
        if key != "problems" and not text:
            errors[key] = T("Required.")
        elif len(text) > limit:
            errors[key] = T("At most {n} characters.", n=limit)
        data[key] = text or None
    data["follow_up"] = str(values.get("follow_up") or "none")
    if data["follow_up"] == "action" and not data["problems"]:
        errors["problems"] = T("Describe the problems the corrective action is to correct.")
    return data, errors


def chase_revisits(session: Session, now: dt.datetime, tz: ZoneInfo, company_locale: str) -> int:
    """Each due revisit's customer owner is told on its due day and, until it is recorded, on
    every working day after; once a day, whatever runs twice."""
    local = now.astimezone(tz)
    today = local.date()
    calendar = WorkingCalendar.load(session)
    if not calendar.is_working_day(today) or local.hour < int(data_call_settings(session)["send_from_hour"]):
        return 0
    due = list(session.execute(select(Revisit, Person).join(Customer, Customer.id == Revisit.customer_id)
                               .join(Person, Person.id == Customer.owner_id)
                               .where(Revisit.status == "due", Revisit.due_date <= today, Person.active.is_(True))))
    keys = {f"revisit:{r.id}:{today.isoformat()}": (r, p) for r, p in due if address_of(p)}
    already = outbox.queued(session, list(keys))
    rows = []
    for key, (revisit, person) in keys.items():
        if key in already:
            continue
        locale = person.locale or company_locale
        _ = gettext_for(locale)
        text = (_("A quality revisit is due today: record it when it is done.") if revisit.due_date == today
                else _("A quality revisit was due on {due} and is not recorded yet.").format(
                    due=revisit.due_date.isoformat()))
        message = Message(text=text, cards=[Card(title=_("Quality revisit"), parts=[
            Paragraph(text, strong=True), FieldList(revisit_summary(session, revisit, locale)),
            Actions([Button(_("Record the revisit"), "revisit.record", str(revisit.id), "primary")])])])
        rows.append(outbox.Queued(key, "dm", address_of(person), message,
                                  expires_at=dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tz)))
    return outbox.enqueue_many(session, rows, now)
