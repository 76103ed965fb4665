"""Logging a complaint: the dialog and its pre-fill, validation, numbering, the deadlines it
starts with, its default owner."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.complaints.deadlines import SlaPolicyBook, complaint_settings
from bot.complaints.terms import FOUND_WHERE, RECEIVED_VIA, SEVERITIES
from bot.complaints.workflow import meet_deadline
from bot.core.i18n import gettext_for
from bot.core.inputs import column_length, whole_pieces
from bot.core.texts import T, Text
from bot.core.views import (
    Form,
    FormField,
    Option,
    fit_initial_values,
)
from bot.people.customers import customer_label, customer_lookup
from storage.db import insert_ignoring_conflicts
from storage.models import (
    Complaint,
    ComplaintAttachment,
    ComplaintDeadline,
    ComplaintStatusChange,
    Counter,
    Customer,
    Person,
)

PHONE = re.compile(r"^[0-9+()\-\s]{5,30}$")


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


QUANTITY = re.compile(r"^(\d+)\s*(件|个|pcs?|PCS|台|套|只)?$")


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
    return fit_initial_values(Form(
        kind="complaint.log", title=_("Log a complaint"), submit=_("Log it"), close=_("Cancel"),
        intro=_("Anyone who receives a complaint logs it; nobody holds one back."),
        fields=[
            FormField("customer", _("Customer"), "customer", initial=customer.code if customer else None,
                      options=[Option(customer.code, customer_label(customer, locale))] if customer else [],
                      placeholder=_("Type a code or a name")),
            FormField("severity", _("Severity"), "select", initial=prefill.get("severity", "general"),
                      options=[Option(k, _(v)) for k, v in SEVERITIES.items()]),
            FormField("symptom", _("Symptom"), "multiline", initial=prefill.get("symptom"), max_length=3000),
            FormField("found_where", _("Where the customer found it"), "select", required=False,
                      initial=prefill.get("found_where"), options=[Option(k, _(v)) for k, v in FOUND_WHERE.items()]),
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
    ), _)


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
    found_where: str | None = None


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
        if not match or whole_pieces(match.group(1)) is None:
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
    found = str(values.get("found_where") or "") or None
    if found is not None and found not in FOUND_WHERE:
        errors["found_where"] = T("Choose where the customer found it.")
    via = str(values.get("received_via") or "") or None
    if via is not None and via not in RECEIVED_VIA:
        errors["received_via"] = T("Choose how it was received.")
    for key in ("product_model", "specification", "batch", "contact_name", "contact_phone", "contact_email"):
        limit = column_length(getattr(Complaint, key))
        if limit and len(str(values.get(key) or "").strip()) > limit:
            errors[key] = T("At most {n} characters.", n=limit)
    if errors or customer is None:
        return None, errors
    return NewComplaint(
        customer=customer, severity=severity, symptom=symptom, received_at=received_at, received_via=via,
        product_model=str(values.get("product_model") or "").strip() or None,
        specification=str(values.get("specification") or "").strip() or None, quantity=quantity,
        batch=str(values.get("batch") or "").strip() or None,
        contact_name=str(values.get("contact_name") or "").strip() or None, contact_phone=phone,
        contact_email=email, photos=list(values.get("photos") or []), found_where=found,
    ), {}


def _counter_key(session: Session, stem: str) -> str:
    """The counter of the numbers starting with `stem` (`KS-2026-`), created from the numbers
    already there (the first of the year, or numbers imported before counters)."""
    key = f"complaint:{stem}"
    if session.get(Counter, key) is None:
        start = max((int(n[len(stem):]) for n in session.scalars(select(Complaint.number).where(
            Complaint.number.like(stem + "%"))) if n[len(stem):].isdigit()), default=0)
        insert_ignoring_conflicts(session, Counter, [{"key": key, "value": start}])
    return key


def next_number(session: Session, year: int, prefix: str) -> str:
    """The year's next number from a counter row: the UPDATE takes the row's lock (on SQLite
    the write lock), so a second person logging at once waits and gets the next one."""
    stem = f"{prefix}-{year}-"
    key = _counter_key(session, stem)
    value = session.execute(update(Counter).where(Counter.key == key).values(value=Counter.value + 1)
                            .returning(Counter.value)).scalar_one()
    return f"{stem}{value:04d}"


def keep_number(session: Session, number: str) -> None:
    """A number from an imported ledger: its year's counter moves past it, so the numbers
    csatbot gives later never collide with it."""
    stem, _, sequence = number.rpartition("-")
    if not (sequence.isdigit() and stem):
        return
    key = _counter_key(session, stem + "-")
    session.execute(update(Counter).where(Counter.key == key, Counter.value < int(sequence))
                    .values(value=int(sequence)))


@dataclass
class IntakeRules:
    """What numbering and scheduling a complaint reads, loaded once for a whole ledger."""

    settings: dict[str, Any]
    calendar: WorkingCalendar
    book: SlaPolicyBook
    engineers: list[int]

    @classmethod
    def load(cls, session: Session) -> IntakeRules:
        from storage.models import PersonRole

        engineers = list(session.scalars(select(Person.id).join(PersonRole).where(
            PersonRole.role_key == "quality_engineer", Person.active.is_(True)).order_by(Person.id)))
        return cls(complaint_settings(session), WorkingCalendar.load(session), SlaPolicyBook.load(session), engineers)

    @property
    def warn_fraction(self) -> float:
        return float(self.settings["warn_at_fraction"])


def schedule_deadlines(session: Session, complaint: Complaint, calendar: WorkingCalendar, tz: ZoneInfo,
                       warn_fraction: float, book: SlaPolicyBook | None = None) -> list[ComplaintDeadline]:
    """The complaint's deadlines from its receipt, added to the session (flushed with it)."""
    book = book or SlaPolicyBook.load(session)
    deadlines = []
    for milestone, due in book.deadlines(complaint.received_at, complaint.severity, complaint.customer_id,
                                         calendar, tz).items():
        warn_at = complaint.received_at + (due - complaint.received_at) * warn_fraction
        deadlines.append(ComplaintDeadline(complaint_id=complaint.id, milestone=milestone, due_at=due,
                                           warn_at=warn_at, state="open", paused_seconds=0))
    session.add_all(deadlines)
    return deadlines


def log_complaint(session: Session, data: NewComplaint, logged_by: int | None, now: dt.datetime, tz: ZoneInfo,
                  source: str = "slack", number: str | None = None, rules: IntakeRules | None = None) -> Complaint:
    """Number it (or keep the number a ledger gave it: the ledger import moves the counters
    past its numbers beforehand), schedule its deadlines, record its first status;
    registering is itself a milestone."""
    intake_rules = rules or IntakeRules.load(session)
    settings, calendar = intake_rules.settings, intake_rules.calendar
    year = data.received_at.astimezone(tz).year
    if number is not None and rules is None:
        keep_number(session, number)
    complaint = Complaint(
        number=number or next_number(session, year, settings["number_prefix"]), customer_id=data.customer.id,
        contact_name=data.contact_name, contact_phone=data.contact_phone, contact_email=data.contact_email,
        product_model=data.product_model, specification=data.specification, quantity=data.quantity,
        batch=data.batch, symptom=data.symptom, severity=data.severity, received_via=data.received_via,
        found_where=data.found_where, received_at=data.received_at, registered_at=now, logged_by_id=logged_by,
        owner_id=_default_owner(session, intake_rules.engineers), status="new", source=source, updated_at=now,
    )
    session.add(complaint)
    session.flush()
    deadlines = schedule_deadlines(session, complaint, calendar, tz, intake_rules.warn_fraction, intake_rules.book)
    session.add(ComplaintStatusChange(complaint_id=complaint.id, from_status=None, to_status="new", changed_at=now,
                                      changed_by_id=logged_by, note=None))
    for photo in data.photos or []:
        session.add(ComplaintAttachment(complaint_id=complaint.id, kind="photo", file_id=photo.get("id"),
                                        name=photo.get("name") or photo.get("title") or "photo",
                                        url=photo.get("url_private"), uploaded_by_id=logged_by, uploaded_at=now))
    for deadline in deadlines:
        if deadline.milestone == "register":
            meet_deadline(deadline, now)
    session.flush()
    return complaint


def _default_owner(session: Session, engineers: list[int]) -> int | None:
    """The quality engineer with the fewest open complaints takes a new one."""
    if not engineers:
        return None
    load = dict(session.execute(select(Complaint.owner_id, func.count()).where(
        Complaint.status != "closed", Complaint.owner_id.in_(engineers)).group_by(Complaint.owner_id)).all())
    return min(engineers, key=lambda e: (load.get(e, 0), e))
