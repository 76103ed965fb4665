"""Corrective actions as the command line and reports read them: what opened each, who
carries it out, its state and every step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED, steps_by_action, steps_of
from bot.core.texts import T, UserError
from storage.models import Complaint, CorrectiveAction, Customer, Person


def _query():  # type: ignore[no-untyped-def]
    return (select(CorrectiveAction, Customer.code, Complaint.number, Person.name)
            .outerjoin(Customer, Customer.id == CorrectiveAction.customer_id)
            .outerjoin(Complaint, Complaint.id == CorrectiveAction.complaint_id)
            .outerjoin(Person, Person.id == CorrectiveAction.owner_id))


def _row(action: CorrectiveAction, code: str | None, number: str | None, owner: str | None,
         steps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": action.id, "trigger": {"kind": action.trigger_kind, "key": action.trigger_key,
                                     "detail": action.trigger_detail},
        "customer": code, "complaint": number, "title": action.title, "area": action.area,
        "department": action.owner_department, "owner": owner,
        "due": action.due_date.isoformat() if action.due_date else None, "status": action.status,
        "loops": action.loops or 0, "management_review": bool(action.management_review),
        "opened_at": action.opened_at.isoformat(),
        "closed_at": action.closed_at.isoformat() if action.closed_at else None,
    }
    if steps is not None:
        row["steps"] = steps
    return row


def action_listing(session: Session, status: str = "open", customer_id: int | None = None) -> list[dict[str, Any]]:
    """Newest first, each with its steps. `status`: open (not yet verified or closed), all, or one state."""
    query = _query().order_by(CorrectiveAction.opened_at.desc(), CorrectiveAction.id.desc())
    if status == "open":
        query = query.where(CorrectiveAction.status.not_in(CLOSED))
    elif status != "all":
        query = query.where(CorrectiveAction.status == status)
    if customer_id is not None:
        query = query.where(CorrectiveAction.customer_id == customer_id)
    found = list(session.execute(query))
    steps = steps_by_action(session, [row[0].id for row in found])
    return [_row(action, code, number, owner, steps.get(action.id, [])) for action, code, number, owner in found]


def action_detail(session: Session, action_number: int) -> dict[str, Any]:
    found = session.execute(_query().where(CorrectiveAction.id == action_number)).first()
    if found is None:
        raise UserError(T("No corrective action #{id}.", id=action_number))
    action, code, number, owner = found
    return _row(action, code, number, owner, steps_of(session, action.id))
