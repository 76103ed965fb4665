"""The complaint ledger looked up (SPEC §5, 003 and 004 §5.3/§6): a complaint by its number,
lists for `/complaint list` and the command line, and the JSON `csatbot complaints show`
prints, every deadline with its due time and state."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.complaints.deadlines import MILESTONES
from bot.core.inputs import clean_text
from bot.core.texts import T, UserError
from storage.models import (
    Complaint,
    ComplaintDeadline,
    ComplaintPause,
    ComplaintStatusChange,
    Customer,
    Person,
    ProductReturn,
)

# --- logging ---------------------------------------------------------------------------------------------


# --- milestones, pauses, transitions -----------------------------------------------------------------------


# --- what people see ---------------------------------------------------------------------------------------


def find(session: Session, number: str) -> Complaint:
    number = clean_text(number)
    complaint = session.scalar(select(Complaint).where(Complaint.number == number.strip().upper()))
    if complaint is None:
        raise UserError(T("No complaint {value} exists.", value=number.strip()))
    return complaint


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
        "received_via": complaint.received_via, "found_where": complaint.found_where,
        "received_at": iso(complaint.received_at),
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


def _which(query: Any, which: str, person_id: int | None) -> Any:
    if which in ("open", "overdue", "mine"):
        query = query.where(Complaint.status != "closed")
    if which == "overdue":
        overdue = select(ComplaintDeadline.complaint_id).where(
            ComplaintDeadline.state == "breached", ComplaintDeadline.met_at.is_(None))
        query = query.where(Complaint.id.in_(overdue))
    if which == "mine":
        query = query.where(Complaint.owner_id == person_id)
    return query


def list_complaints(session: Session, which: str, person_id: int | None, now: dt.datetime,
                    limit: int = 200) -> list[Complaint]:
    return list(session.scalars(_which(select(Complaint).order_by(Complaint.received_at.desc()).limit(limit),
                                       which, person_id)))


def count_complaints(session: Session, which: str, person_id: int | None = None) -> int:
    """How many `list_complaints` would list, without its limit."""
    return session.scalar(_which(select(func.count(Complaint.id)), which, person_id)) or 0


# --- imports -------------------------------------------------------------------------------------------------
