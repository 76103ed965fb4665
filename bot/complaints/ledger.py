"""Customer complaints (SPEC §5, 003 and 004 §5.3/§6): logging, the card and its thread,
working a complaint through 8D to closure, deadlines with pauses, returns, look-ups.

A complaint's card lives in the quality channel; every change updates the card in place
and adds a line to its thread, both through the outbox. Deadlines are rows: the SLA scan
(bot/sla_scan.py) derives warnings and breaches from them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.complaints.deadlines import MILESTONES, SlaPolicyBook
from bot.complaints.terms import EIGHT_D, MILESTONE_NAMES, RECEIVED_VIA, RESPONSIBILITY, SEVERITIES, STATUS_NAMES
from bot.core import outbox
from bot.core.i18n import Gettext, gettext_for, pick
from bot.core.spreadsheets import ImportResult, RowError, read_table
from bot.core.stored_settings import setting
from bot.core.texts import T, Text, UserError
from bot.core.views import (
    Actions,
    Button,
    Card,
    Context,
    Field,
    FieldList,
    Form,
    FormField,
    Mention,
    Message,
    Option,
    Paragraph,
    Table,
)
from bot.people.customers import customer_label, customer_lookup
from bot.people.directory import person_by_slack_id
from storage.db import insert_ignoring_conflicts
from storage.models import (
    Complaint,
    ComplaintAttachment,
    ComplaintDeadline,
    ComplaintPause,
    ComplaintStatusChange,
    Counter,
    Customer,
    EightDReport,
    Person,
    ProductReturn,
)

COMPANY_TZ = ZoneInfo("Asia/Shanghai")  # the default company time zone, as in the settings
PHONE = re.compile(r"^[0-9+()\-\s]{5,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
QUANTITY = re.compile(r"^(\d+)\s*(件|个|pcs?|PCS|台|套|只)?$")


def complaint_settings(session: Session) -> dict[str, Any]:
    return setting(session, "complaints")


def local_time(value: dt.datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


# --- logging ---------------------------------------------------------------------------------------------


def parse_prefill(session: Session, text: str) -> dict[str, str]:
    """`/complaint ACME 车门异响 5件`: a customer first, a quantity anywhere, the rest the symptom."""
    words = text.split()
    values: dict[str, str] = {}
    if words:
        lookup = customer_lookup(session)
        if words[0].lower() in lookup:
            values["customer"] = lookup[words.pop(0).lower()].code
    rest = []
    for word in words:
        match = QUANTITY.match(word)
        if match and "quantity" not in values:
            values["quantity"] = match.group(1)
        else:
            rest.append(word)
    if rest:
        values["symptom"] = " ".join(rest)
    return values


def complaint_form(session: Session, locale: str, now: dt.datetime, prefill: dict[str, str]) -> Form:
    _ = gettext_for(locale)
    customer = None
    if prefill.get("customer"):
        customer = customer_lookup(session).get(prefill["customer"].lower())
    return Form(
        kind="complaint.log", title=_("Log a complaint"), submit=_("Log it"), close=_("Cancel"),
        intro=_("Anyone who receives a complaint logs it; nobody holds one back."),
        fields=[
            FormField("customer", _("Customer"), "customer", initial=customer.code if customer else None,
                      options=[Option(customer.code, customer_label(customer, locale))] if customer else [],
                      placeholder=_("Type a code or a name")),
            FormField("severity", _("Severity"), "select", initial=prefill.get("severity", "general"),
                      options=[Option(k, _(v)) for k, v in SEVERITIES.items()]),
            FormField("symptom", _("Symptom"), "multiline", initial=prefill.get("symptom"), max_length=3000),
            FormField("product_model", _("Product model"), "text", required=False, max_length=200),
            FormField("specification", _("Specification"), "text", required=False, max_length=200),
            FormField("quantity", _("Quantity"), "text", required=False, initial=prefill.get("quantity"),
                      max_length=12),
            FormField("batch", _("Batch or serial number"), "text", required=False, max_length=200),
            FormField("contact_name", _("Customer contact"), "text", required=False, max_length=200),
            FormField("contact_phone", _("Contact phone"), "text", required=False, max_length=30),
            FormField("contact_email", _("Contact e-mail"), "text", required=False, max_length=320),
            FormField("received_via", _("Received by"), "select", initial="phone",
                      options=[Option(k, _(v)) for k, v in RECEIVED_VIA.items()]),
            FormField("received_at", _("Received at"), "datetime", initial=str(int(now.timestamp()))),
            FormField("photos", _("Photos"), "file", required=False),
        ],
    )


@dataclass
class NewComplaint:
    customer: Customer
    severity: str
    symptom: str
    received_at: dt.datetime
    received_via: str | None = None
    product_model: str | None = None
    specification: str | None = None
    quantity: int | None = None
    batch: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    photos: list[dict[str, Any]] | None = None


def validate_complaint(session: Session, values: dict[str, Any], now: dt.datetime) -> tuple[
        NewComplaint | None, dict[str, Text]]:
    errors: dict[str, Text] = {}
    code = str(values.get("customer") or "").strip()
    customer = customer_lookup(session).get(code.lower()) if code else None
    if not code:
        errors["customer"] = T("Choose a customer.")
    elif customer is None:
        errors["customer"] = T("Unknown customer {value!r}.", value=code)
    severity = str(values.get("severity") or "general")
    if severity not in SEVERITIES:
        errors["severity"] = T("Choose a severity.")
    symptom = str(values.get("symptom") or "").strip()
    if not symptom:
        errors["symptom"] = T("Describe the symptom.")
    quantity = None
    raw_quantity = str(values.get("quantity") or "").strip()
    if raw_quantity:
        match = QUANTITY.match(raw_quantity)
        if not match or int(match.group(1)) == 0:
            errors["quantity"] = T("Enter a whole number of pieces, e.g. 5.")
        else:
            quantity = int(match.group(1))
    phone = str(values.get("contact_phone") or "").strip() or None
    if phone and not PHONE.match(phone):
        errors["contact_phone"] = T("{value!r} is not a phone number.", value=phone)
    email = str(values.get("contact_email") or "").strip() or None
    if email and not EMAIL.match(email):
        errors["contact_email"] = T("email {value!r} is not an e-mail address.", value=email)
    received_at = now
    raw_received = values.get("received_at")
    if raw_received not in (None, ""):
        try:
            received_at = dt.datetime.fromtimestamp(int(raw_received), dt.UTC)
        except (TypeError, ValueError, OverflowError):
            errors["received_at"] = T("Choose when it was received.")
        else:
            if received_at > now + dt.timedelta(minutes=5):
                errors["received_at"] = T("The time is in the future.")
    via = str(values.get("received_via") or "") or None
    if errors or customer is None:
        return None, errors
    return NewComplaint(
        customer=customer, severity=severity, symptom=symptom, received_at=received_at, received_via=via,
        product_model=str(values.get("product_model") or "").strip() or None,
        specification=str(values.get("specification") or "").strip() or None, quantity=quantity,
        batch=str(values.get("batch") or "").strip() or None,
        contact_name=str(values.get("contact_name") or "").strip() or None, contact_phone=phone,
        contact_email=email, photos=list(values.get("photos") or []),
    ), {}


def next_number(session: Session, year: int, prefix: str) -> str:
    """The year's next number from a counter row: the UPDATE takes the row's lock (on SQLite
    the write lock), so a second person logging at once waits and gets the next one."""
    stem = f"{prefix}-{year}-"
    key = f"complaint:{stem}"
    if session.get(Counter, key) is None:  # the first of the year, or numbers imported before counters
        last = session.scalar(select(func.max(Complaint.number)).where(Complaint.number.like(stem + "%")))
        start = int(last.rsplit("-", 1)[1]) if last else 0
        insert_ignoring_conflicts(session, Counter, [{"key": key, "value": start}])
    value = session.execute(update(Counter).where(Counter.key == key).values(value=Counter.value + 1)
                            .returning(Counter.value)).scalar_one()
    return f"{stem}{value:04d}"


def schedule_deadlines(session: Session, complaint: Complaint, calendar: WorkingCalendar, tz: ZoneInfo,
                       warn_fraction: float) -> None:
    book = SlaPolicyBook.load(session)
    for milestone, due in book.deadlines(complaint.received_at, complaint.severity, complaint.customer_id,
                                         calendar, tz).items():
        warn_at = complaint.received_at + (due - complaint.received_at) * warn_fraction
        session.add(ComplaintDeadline(complaint_id=complaint.id, milestone=milestone, due_at=due, warn_at=warn_at,
                                      state="open", paused_seconds=0))
    session.flush()


def log_complaint(session: Session, data: NewComplaint, logged_by: int | None, now: dt.datetime, tz: ZoneInfo,
                  source: str = "slack") -> Complaint:
    """Number it, schedule its deadlines, record its first status; registering is itself a milestone."""
    settings = complaint_settings(session)
    calendar = WorkingCalendar.load(session)
    year = data.received_at.astimezone(tz).year
    complaint = Complaint(
        number=next_number(session, year, settings["number_prefix"]), customer_id=data.customer.id,
        contact_name=data.contact_name, contact_phone=data.contact_phone, contact_email=data.contact_email,
        product_model=data.product_model, specification=data.specification, quantity=data.quantity,
        batch=data.batch, symptom=data.symptom, severity=data.severity, received_via=data.received_via,
        received_at=data.received_at, registered_at=now, logged_by_id=logged_by, owner_id=_default_owner(session),
        status="new", source=source, updated_at=now,
    )
    session.add(complaint)
    session.flush()
    schedule_deadlines(session, complaint, calendar, tz, float(settings["warn_at_fraction"]))
    session.add(ComplaintStatusChange(complaint_id=complaint.id, from_status=None, to_status="new", changed_at=now,
                                      changed_by_id=logged_by, note=None))
    for photo in data.photos or []:
        session.add(ComplaintAttachment(complaint_id=complaint.id, kind="photo", file_id=photo.get("id"),
                                        name=photo.get("name") or photo.get("title") or "photo",
                                        url=photo.get("url_private"), uploaded_by_id=logged_by, uploaded_at=now))
    meet(session, complaint, "register", now)
    return complaint


def _default_owner(session: Session) -> int | None:
    """The quality engineer with the fewest open complaints takes a new one."""
    from storage.models import PersonRole

    engineers = list(session.scalars(select(Person.id).join(PersonRole).where(
        PersonRole.role_key == "quality_engineer", Person.active.is_(True)).order_by(Person.id)))
    if not engineers:
        return None
    load = dict(session.execute(select(Complaint.owner_id, func.count()).where(
        Complaint.status != "closed", Complaint.owner_id.in_(engineers)).group_by(Complaint.owner_id)).all())
    return min(engineers, key=lambda e: (load.get(e, 0), e))


# --- milestones, pauses, transitions -----------------------------------------------------------------------


def meet(session: Session, complaint: Complaint, milestone: str, now: dt.datetime) -> None:
    """A milestone reached: on time it is met; past its due time it stays breached, met late."""
    deadline = session.scalar(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id,
                                                              ComplaintDeadline.milestone == milestone))
    if deadline is None or deadline.met_at is not None:
        return
    deadline.met_at = now
    if deadline.state == "open":
        deadline.state = "met" if now <= deadline.due_at else "breached"
        if deadline.state == "breached" and deadline.breached_at is None:
            deadline.breached_at = deadline.due_at


def set_status(session: Session, complaint: Complaint, status: str, by: int | None, now: dt.datetime,
               note: str | None = None) -> None:
    if complaint.status == status:
        return
    session.add(ComplaintStatusChange(complaint_id=complaint.id, from_status=complaint.status, to_status=status,
                                      changed_at=now, changed_by_id=by, note=note))
    complaint.status = status
    complaint.updated_at = now


def pause(session: Session, complaint: Complaint, by: int | None, now: dt.datetime, reason: str | None) -> None:
    if complaint.status in ("closed", "waiting_customer"):
        raise UserError(T("Only an open complaint can wait for the customer."))
    session.add(ComplaintPause(complaint_id=complaint.id, started_at=now, reason=reason))
    set_status(session, complaint, "waiting_customer", by, now, reason)


def resume(session: Session, complaint: Complaint, by: int | None, now: dt.datetime,
           tz: ZoneInfo = COMPANY_TZ) -> int:
    """End the pause; every open deadline moves by the time spent waiting. Returns seconds paused."""
    pause_row = session.scalar(select(ComplaintPause).where(ComplaintPause.complaint_id == complaint.id,
                                                            ComplaintPause.ended_at.is_(None)))
    if pause_row is None or complaint.status != "waiting_customer":
        raise UserError(T("The complaint is not waiting for the customer."))
    pause_row.ended_at = now
    waited = now - pause_row.started_at
    book = SlaPolicyBook.load(session)
    calendar = WorkingCalendar.load(session)
    for deadline in session.scalars(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id,
                                                                    ComplaintDeadline.state == "open")):
        rule = book.rule(deadline.milestone, complaint.severity, complaint.customer_id)
        if rule is not None and rule.unit == "working_days":
            # counted in working days: the working days the wait took (a weekend costs none)
            days = calendar.working_days_between(pause_row.started_at.astimezone(tz).date(), now.astimezone(tz).date())
            if days > 0:
                last = calendar.nth_working_day_after(deadline.due_at.astimezone(tz).date(), days)
                deadline.due_at = dt.datetime.combine(last, dt.time(23, 59, 59), tz).astimezone(dt.UTC)
        else:
            deadline.due_at = deadline.due_at + waited
        if deadline.warn_at is not None:
            deadline.warn_at = min(deadline.warn_at + waited, deadline.due_at)
        deadline.paused_seconds += int(waited.total_seconds())
    previous = session.scalar(select(ComplaintStatusChange.from_status).where(
        ComplaintStatusChange.complaint_id == complaint.id, ComplaintStatusChange.to_status == "waiting_customer")
        .order_by(ComplaintStatusChange.id.desc()).limit(1))
    set_status(session, complaint, previous or "acknowledged", by, now, None)
    return int(waited.total_seconds())


def acknowledge(session: Session, complaint: Complaint, by: int | None, now: dt.datetime, said: str) -> None:
    _require_open(complaint)
    complaint.first_response = said
    meet(session, complaint, "first_response", now)
    if complaint.status in ("new", "reopened"):
        set_status(session, complaint, "acknowledged", by, now, said)


def assign(session: Session, complaint: Complaint, owner: Person, by: int | None, now: dt.datetime) -> None:
    complaint.owner_id = owner.id
    complaint.updated_at = now


def decide_responsibility(session: Session, complaint: Complaint, decision: str, by: int | None,
                          now: dt.datetime, note: str | None) -> None:
    if decision not in RESPONSIBILITY:
        raise UserError(T("Choose ours, the customer's or the supplier's."))
    complaint.responsibility = decision
    complaint.updated_at = now


def record_investigation(session: Session, complaint: Complaint, text: str, cause: str | None, by: int | None,
                         now: dt.datetime) -> None:
    _require_open(complaint)
    complaint.investigation = text
    if cause:
        complaint.cause_category = cause
    meet(session, complaint, "investigation", now)
    if complaint.status in ("new", "acknowledged", "reopened"):
        set_status(session, complaint, "investigating", by, now, None)


def record_eight_d(session: Session, complaint: Complaint, values: dict[str, str | None], report_files: list[Any],
                   by: int | None, now: dt.datetime) -> bool:
    """Save the 8D; containment (D3) comes first. Complete (all eight, or a report attached)
    meets the 8D deadline."""
    _require_open(complaint)
    report = session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))
    if report is None:
        report = EightDReport(complaint_id=complaint.id)
        session.add(report)
    for key, _label in EIGHT_D:
        value = (values.get(key) or "").strip() or None
        if value is not None:
            setattr(report, key, value)
    report.updated_at = now
    for item in report_files:
        session.add(ComplaintAttachment(complaint_id=complaint.id, kind="eight_d_report", file_id=item.get("id"),
                                        name=item.get("name") or "8D", url=item.get("url_private"),
                                        uploaded_by_id=by, uploaded_at=now))
    complete = bool(report_files) or all(getattr(report, key) for key, _label in EIGHT_D)
    if complete:
        report.submitted_at = now
        report.submitted_by_id = by
        meet(session, complaint, "eight_d", now)
    if complaint.status in ("new", "acknowledged", "investigating", "reopened"):
        set_status(session, complaint, "eight_d", by, now, None)
    return complete


def close(session: Session, complaint: Complaint, reply: str, by: int | None, now: dt.datetime,
          cost: Decimal | None = None, tz: ZoneInfo = COMPANY_TZ) -> None:
    _require_open(complaint)
    if complaint.status == "waiting_customer":
        resume(session, complaint, by, now, tz)
    complaint.reply_to_customer = reply
    complaint.closed_at = now
    if cost is not None:
        complaint.cost = cost
    for milestone in ("register", "first_response", "close"):
        meet(session, complaint, milestone, now)
    # what closing made unnecessary (an 8D for a complaint that was the customer's) is no longer due
    session.execute(update(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id,
                                                    ComplaintDeadline.state == "open").values(state="not_needed"))
    set_status(session, complaint, "closed", by, now, reply)


def reopen(session: Session, complaint: Complaint, reason: str, by: int | None, now: dt.datetime,
           tz: ZoneInfo) -> None:
    """Reopened: closing is due again, the policy's time counted from the reopening."""
    if complaint.status != "closed":
        raise UserError(T("Only a closed complaint can be reopened."))
    complaint.closed_at = None
    deadline = session.scalar(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id,
                                                              ComplaintDeadline.milestone == "close"))
    rule = SlaPolicyBook.load(session).rule("close", complaint.severity, complaint.customer_id)
    if deadline is not None and rule is not None:
        from bot.complaints.deadlines import due_at

        calendar = WorkingCalendar.load(session)
        due = due_at(now, rule, calendar, tz)
        deadline.due_at = due
        deadline.warn_at = now + (due - now) * float(complaint_settings(session)["warn_at_fraction"])
        deadline.state, deadline.met_at, deadline.warned_at, deadline.breached_at = "open", None, None, None
    set_status(session, complaint, "reopened", by, now, reason)


def _require_open(complaint: Complaint) -> None:
    if complaint.status == "closed":
        raise UserError(T("{number} is closed; reopen it first.", number=complaint.number))


def log_return(session: Session, complaint: Complaint | None, customer_id: int, kind: str, reason: str | None,
               model: str | None, quantity: int, by: int | None, now: dt.datetime) -> ProductReturn:
    """A quality return comes with its complaint; a non-quality return needs a reason and an approver."""
    if kind == "quality" and complaint is None:
        raise UserError(T("A quality return is logged with its complaint."))
    if kind == "non_quality" and not reason:
        raise UserError(T("A non-quality return needs a reason."))
    row = ProductReturn(kind=kind, complaint_id=complaint.id if complaint else None, customer_id=customer_id,
                        reason=reason, product_model=model, quantity=quantity, requested_by_id=by, requested_at=now,
                        status="approved" if kind == "quality" else "pending",
                        approved_by_id=by if kind == "quality" else None,
                        approved_at=now if kind == "quality" else None)
    session.add(row)
    session.flush()
    return row


def approve_return(session: Session, row: ProductReturn, by: int, now: dt.datetime, approve: bool) -> None:
    if row.status != "pending":
        raise UserError(T("This return was already decided."))
    if row.requested_by_id == by:
        raise UserError(T("Someone other than the person who asked for the return decides it."))
    row.status = "approved" if approve else "rejected"
    row.approved_by_id = by
    row.approved_at = now


# --- what people see ---------------------------------------------------------------------------------------


def find(session: Session, number: str) -> Complaint:
    complaint = session.scalar(select(Complaint).where(Complaint.number == number.strip().upper()))
    if complaint is None:
        raise UserError(T("No complaint {value} exists.", value=number.strip()))
    return complaint


def deadline_rows(session: Session, complaint: Complaint, _: Gettext, tz: ZoneInfo) -> list[list[str]]:
    rows = []
    deadlines = {d.milestone: d for d in session.scalars(select(ComplaintDeadline).where(
        ComplaintDeadline.complaint_id == complaint.id))}
    for milestone in MILESTONES:
        deadline = deadlines.get(milestone)
        if deadline is None:
            continue
        if deadline.state == "met":
            state = "✅ " + _("met")
        elif deadline.state == "breached":
            state = "⚠️ " + (_("met late") if deadline.met_at else _("breached"))
        elif deadline.state == "not_needed":
            state = "— " + _("not needed")
        elif complaint.status == "waiting_customer":
            state = "⏸ " + _("paused")
        else:
            state = "⏳ " + _("not yet due")
        rows.append([_(MILESTONE_NAMES[milestone]), local_time(deadline.due_at, tz), state])
    return rows


def complaint_card(session: Session, complaint: Complaint, locale: str, tz: ZoneInfo, now: dt.datetime,
                   buttons: bool = True) -> Card:
    _ = gettext_for(locale)
    customer = session.get(Customer, complaint.customer_id)
    assert customer is not None
    owner = session.get(Person, complaint.owner_id) if complaint.owner_id else None
    name = pick(locale, customer.name_zh, customer.name_en)
    title = f"{complaint.number} · {name} · {_(SEVERITIES[complaint.severity])}"
    contact = " / ".join(x for x in (complaint.contact_name, complaint.contact_phone, complaint.contact_email) if x)
    product = " ".join(x for x in (complaint.product_model, complaint.specification) if x)
    fields = [
        Field(_("Status"), _(STATUS_NAMES.get(complaint.status, complaint.status))),
        Field(_("Owner"), owner.name if owner else _("nobody yet")),
        Field(_("Customer"), f"{customer.code} · {pick(locale, customer.name_zh, customer.name_en)}"),
        Field(_("Received"), f"{local_time(complaint.received_at, tz)} · "
                             f"{_(RECEIVED_VIA.get(complaint.received_via or 'other', 'other'))}"),
        Field(_("Product"), product or "—"),
        Field(_("Quantity / batch"), f"{complaint.quantity or '—'} / {complaint.batch or '—'}"),
        Field(_("Customer contact"), contact or "—"),
        Field(_("Responsibility"), _(RESPONSIBILITY[complaint.responsibility]) if complaint.responsibility
              else _("not decided")),
    ]
    parts: list = [Paragraph(complaint.symptom), FieldList(fields),
                   Table([_("Deadline"), _("Due"), _("State")], deadline_rows(session, complaint, _, tz))]
    for label, text in ((_("First response"), complaint.first_response), (_("Investigation"), complaint.investigation),
                        (_("Reply to the customer"), complaint.reply_to_customer),
                        (_("Customer's opinion after closure"), complaint.customer_opinion)):
        if text:
            parts.append(FieldList([Field(label, text)]))
    if buttons:
        parts.append(Actions(card_buttons(complaint, _)))
    parts.append(Context(_("Times in {tz}.").format(tz=str(tz))))
    return Card(title=title, parts=parts)


def card_buttons(complaint: Complaint, _: Gettext) -> list[Button]:
    number = complaint.number
    if complaint.status == "closed":
        return [Button(_("Record scorecard event"), "complaint.scorecard_event", number),
                Button(_("Customer's opinion"), "complaint.opinion", number),
                Button(_("Log a return"), "complaint.return", number),
                Button(_("Reopen"), "complaint.reopen", number, "danger")]
    buttons = []
    if not complaint.first_response:
        buttons.append(Button(_("Acknowledge"), "complaint.acknowledge", number, "primary"))
    buttons += [Button(_("Assign owner"), "complaint.assign", number),
                Button(_("Responsibility"), "complaint.responsibility", number),
                Button(_("Investigation"), "complaint.investigation", number),
                Button(_("8D"), "complaint.eight_d", number)]
    if complaint.status == "waiting_customer":
        buttons.append(Button(_("Customer replied"), "complaint.resume", number))
    else:
        buttons.append(Button(_("Wait for customer"), "complaint.pause", number))
    buttons += [Button(_("Log a return"), "complaint.return", number),
                Button(_("Close"), "complaint.close", number, "primary")]
    return buttons


def tell_owner(session: Session, complaint: Complaint, company_locale: str, tz: ZoneInfo, now: dt.datetime,
               key: str) -> None:
    """The owner hears of a complaint that became theirs, with its card (urgent: at once)."""
    owner = session.get(Person, complaint.owner_id) if complaint.owner_id else None
    if owner is None:
        return
    locale = owner.locale or company_locale
    _ = gettext_for(locale)
    text = _("You own complaint {number} ({severity}); its deadlines run from its receipt.").format(
        number=complaint.number, severity=_(SEVERITIES[complaint.severity]))
    card = complaint_card(session, complaint, locale, tz, now)
    outbox.enqueue(session, key, "dm", owner.slack_user_id,
                   Message(text=text, cards=[Card(title="", parts=[Paragraph(text, strong=True)]), card]), now)


def card_key_of(number: str) -> str:
    """The outbox key of a complaint's card: its thread and its updates hang off it."""
    return f"complaint:{number}:card"


def card_key(complaint: Complaint) -> str:
    return card_key_of(complaint.number)


def publish(session: Session, complaint: Complaint, channel: str, locale: str, tz: ZoneInfo, now: dt.datetime,
            line: Text | None = None, line_key: str | None = None, mention: str | None = None) -> None:
    """The card posted once, or updated in place (a newer update replaces one still waiting),
    and a line in its thread."""
    if not channel:
        return
    _ = gettext_for(locale)
    card = complaint_card(session, complaint, locale, tz, now)
    message = Message(text=card.title, cards=[card])
    key = card_key(complaint)
    if not outbox.exists(session, key):
        outbox.enqueue(session, key, "post", channel, message, now)
    else:
        outbox.update_in_place(session, key, f"{now.isoformat()}:{line_key or ''}", channel, message, now)
    if line is not None:
        text = line.render(_)
        parts: list = [Mention(mention, text)] if mention else [Paragraph(text)]
        outbox.enqueue(session, line_key or f"{key}:line:{now.isoformat()}", "post", channel,
                       Message(text=text, cards=[Card(title="", parts=parts)]), now, thread_of=key)


def complaint_json(session: Session, complaint: Complaint, tz: ZoneInfo) -> dict[str, Any]:
    customer = session.get(Customer, complaint.customer_id)
    people = dict(session.execute(select(Person.id, Person.slack_user_id)).all())

    def iso(value: dt.datetime | None) -> str | None:
        return value.astimezone(tz).isoformat() if value else None

    return {
        "number": complaint.number, "customer": customer.code if customer else None,
        "status": complaint.status, "severity": complaint.severity, "symptom": complaint.symptom,
        "product_model": complaint.product_model, "specification": complaint.specification,
        "quantity": complaint.quantity, "batch": complaint.batch, "contact_name": complaint.contact_name,
        "contact_phone": complaint.contact_phone, "contact_email": complaint.contact_email,
        "received_via": complaint.received_via, "received_at": iso(complaint.received_at),
        "registered_at": iso(complaint.registered_at), "owner": people.get(complaint.owner_id),
        "responsibility": complaint.responsibility, "cause_category": complaint.cause_category,
        "first_response": complaint.first_response, "investigation": complaint.investigation,
        "reply_to_customer": complaint.reply_to_customer, "customer_opinion": complaint.customer_opinion,
        "cost": float(complaint.cost) if complaint.cost is not None else None, "closed_at": iso(complaint.closed_at),
        "status_history": [
            {"from": c.from_status, "to": c.to_status, "at": iso(c.changed_at), "by": people.get(c.changed_by_id),
             "note": c.note}
            for c in session.scalars(select(ComplaintStatusChange).where(
                ComplaintStatusChange.complaint_id == complaint.id).order_by(ComplaintStatusChange.id))],
        "deadlines": [
            {"milestone": d.milestone, "due_at": iso(d.due_at), "state": d.state, "met_at": iso(d.met_at),
             "paused_seconds": d.paused_seconds}
            for d in sorted(session.scalars(select(ComplaintDeadline).where(
                ComplaintDeadline.complaint_id == complaint.id)), key=lambda d: MILESTONES.index(d.milestone))],
        "pauses": [{"from": iso(p.started_at), "to": iso(p.ended_at), "reason": p.reason}
                   for p in session.scalars(select(ComplaintPause).where(ComplaintPause.complaint_id == complaint.id))],
        "returns": [{"kind": r.kind, "quantity": r.quantity, "status": r.status, "reason": r.reason}
                    for r in session.scalars(select(ProductReturn).where(ProductReturn.complaint_id == complaint.id))],
    }


def list_complaints(session: Session, which: str, person_id: int | None, now: dt.datetime,
                    limit: int = 200) -> list[Complaint]:
    query = select(Complaint).order_by(Complaint.received_at.desc()).limit(limit)
    if which in ("open", "overdue", "mine"):
        query = query.where(Complaint.status != "closed")
    if which == "overdue":
        overdue = select(ComplaintDeadline.complaint_id).where(
            ComplaintDeadline.state == "breached", ComplaintDeadline.met_at.is_(None))
        query = query.where(Complaint.id.in_(overdue))
    if which == "mine":
        query = query.where(Complaint.owner_id == person_id)
    return list(session.scalars(query))


def list_message(session: Session, complaints: list[Complaint], which: str, locale: str, tz: ZoneInfo) -> Message:
    _ = gettext_for(locale)
    names = {"open": _("Open complaints"), "overdue": _("Overdue complaints"), "mine": _("My complaints"),
             "all": _("Complaints")}
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    rows = [[c.number, codes.get(c.customer_id, ""), _(SEVERITIES[c.severity]),
             _(STATUS_NAMES.get(c.status, c.status)), local_time(c.received_at, tz), c.symptom[:30]]
            for c in complaints[:25]]
    title = f"{names.get(which, names['all'])} ({len(complaints)})"
    parts: list = [Table([_("Number"), _("Customer"), _("Severity"), _("Status"), _("Received"), _("Symptom")], rows)
                   if rows else Paragraph(_("None."))]
    if len(complaints) > 25:
        parts.append(Context(_("First 25 shown; `csatbot complaints list --json` lists all.")))
    return Message(text=title, cards=[Card(title=title, parts=parts)])


# --- imports -------------------------------------------------------------------------------------------------

IMPORT_COLUMNS = ["customer", "received_at", "severity", "product_model", "quantity", "batch", "symptom",
                  "contact_name", "contact_phone", "status", "closed_at", "reply"]


def import_complaints(session: Session, path: Path, now: dt.datetime, tz: ZoneInfo) -> ImportResult:
    """Backfill an existing complaint ledger; all or nothing, row-numbered errors. Optional
    `status` (open/closed), `closed_at` and `reply` columns carry a ledger's closed cases.
    Deadlines already past are recorded as they stand without warning anyone: a backfill
    must not flood the channel with yesterday's breaches."""
    rows = read_table(path, ["customer", "received_at", "severity", "symptom"], IMPORT_COLUMNS)
    severities = {**{k: k for k in SEVERITIES}, "一般": "general", "严重": "serious", "紧急": "urgent"}
    records, errors = [], []
    for row in rows:
        v = row.values
        received = None
        try:
            received = dt.datetime.fromisoformat(v["received_at"].replace("/", "-"))
            if received.tzinfo is None:
                received = received.replace(tzinfo=tz)
        except ValueError:
            errors.append(RowError(row.number, T("Column {column}: {message}", column="received_at",
                                                 message=T("{value!r} is not a date and time (YYYY-MM-DD HH:MM).",
                                                           value=v["received_at"]))))
        severity = severities.get(v.get("severity", "").strip().lower() or "general")
        if severity is None:
            errors.append(RowError(row.number, T("Column {column}: {message}", column="severity",
                                                 message=T("Choose a severity."))))
        values = {"customer": v.get("customer"), "severity": severity or "general", "symptom": v.get("symptom"),
                  "quantity": v.get("quantity"), "product_model": v.get("product_model"), "batch": v.get("batch"),
                  "contact_name": v.get("contact_name"), "contact_phone": v.get("contact_phone"),
                  "received_at": str(int(received.timestamp())) if received else None}
        data, field_errors = validate_complaint(session, values, now)
        for name, message in field_errors.items():
            errors.append(RowError(row.number, T("Column {column}: {message}", column=name, message=message)))
        status = (v.get("status") or "open").strip().lower()
        closed_at = None
        if status in ("closed", "关闭", "已关闭"):
            try:
                closed_at = dt.datetime.fromisoformat((v.get("closed_at") or "").replace("/", "-"))
                closed_at = closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=tz)
            except ValueError:
                errors.append(RowError(row.number, T("Column {column}: {message}", column="closed_at",
                                                     message=T("{value!r} is not a date and time (YYYY-MM-DD HH:MM).",
                                                               value=v.get("closed_at") or ""))))
        elif status not in ("open", "打开", "处理中", ""):
            errors.append(RowError(row.number, T("Column {column}: {message}", column="status",
                                                 message=T("Use open or closed."))))
        if data is not None and received is not None and severity is not None:
            records.append((data, closed_at, (v.get("reply") or "").strip() or None))
    if errors:
        return ImportResult(errors=errors)
    for data, closed_at, reply in records:
        complaint = log_complaint(session, data, None, now, tz, source="import")
        complaint.registered_at = data.received_at  # the ledger had it; registering late is not this import's fault
        deadlines = session.scalars(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id))
        for deadline in deadlines:
            if deadline.milestone == "register":
                deadline.state, deadline.met_at, deadline.breached_at = "met", data.received_at, None
            elif closed_at is not None and deadline.milestone == "close":
                deadline.met_at = closed_at
                deadline.state = "met" if closed_at <= deadline.due_at else "breached"
            elif closed_at is not None:
                deadline.state = "met"  # a closed case: its intermediate steps are history
                deadline.met_at = closed_at
            if deadline.state == "open" and deadline.due_at <= now:
                deadline.state, deadline.breached_at = "breached", deadline.due_at
            if deadline.warn_at is not None and deadline.warn_at <= now:
                deadline.warned_at = now  # past warnings are not sent after the fact
        if closed_at is not None:
            complaint.closed_at = closed_at
            complaint.reply_to_customer = reply
            set_status(session, complaint, "closed", None, closed_at, reply)
    return ImportResult(created=len(records))


def person_id_of(session: Session, slack_user_id: str) -> int | None:
    person = person_by_slack_id(session, slack_user_id)
    return person.id if person else None


def action_value(number: str, **extra: Any) -> str:
    return json.dumps({"number": number, **extra})
