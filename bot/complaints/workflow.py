"""What happens to a complaint after it is logged: milestones met, status changes, pauses for
the customer, first response, owner, responsibility, investigation, 8D, closing, reopening,
returns and their approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.actions.lifecycle import QUALITY_INFO_REPLY, department_name, due_in_working_days, route
from bot.calendar.working_days import WorkingCalendar
from bot.complaints.deadlines import COMPANY_TZ, SlaPolicyBook, complaint_settings
from bot.complaints.terms import EIGHT_D, RESPONSIBILITY
from bot.core.texts import T, Text, UserError, join_texts
from storage.db import insert_ignoring_conflicts
from storage.models import (
    Complaint,
    ComplaintAttachment,
    ComplaintDeadline,
    ComplaintPause,
    ComplaintStatusChange,
    CorrectiveAction,
    Customer,
    EightDReport,
    Person,
    ProductReturn,
)

# the steps a complaint needs only when the responsibility is ours (SPEC §5: 8D for quality complaints)
NOT_NEEDED_UNLESS_OURS = ("investigation", "eight_d")


def meet(session: Session, complaint: Complaint, milestone: str, now: dt.datetime) -> None:
    """A milestone reached: on time it is met; past its due time it stays breached, met late."""
    deadline = session.scalar(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id,
                                                              ComplaintDeadline.milestone == milestone))
    if deadline is not None:
        meet_deadline(deadline, now)


def meet_deadline(deadline: ComplaintDeadline, now: dt.datetime) -> None:
    if deadline.met_at is not None:
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
    _keep_closing_after_eight_d(session, complaint, book)
    previous = session.scalar(select(ComplaintStatusChange.from_status).where(
        ComplaintStatusChange.complaint_id == complaint.id, ComplaintStatusChange.to_status == "waiting_customer")
        .order_by(ComplaintStatusChange.id.desc()).limit(1))
    set_status(session, complaint, previous or "acknowledged", by, now, None)
    return int(waited.total_seconds())


def _keep_closing_after_eight_d(session: Session, complaint: Complaint, book: SlaPolicyBook) -> None:
    """A pause moves closing by the time waited and the 8D by working days: under the
    company's rules closing stays after the 8D, as when the deadlines were set."""
    if not book.closes_after_eight_d(complaint.severity, complaint.customer_id):
        return
    rows = {d.milestone: d for d in session.scalars(select(ComplaintDeadline).where(
        ComplaintDeadline.complaint_id == complaint.id, ComplaintDeadline.milestone.in_(("close", "eight_d"))))}
    close, eight_d = rows.get("close"), rows.get("eight_d")
    if close is not None and eight_d is not None and close.state == "open" and close.due_at < eight_d.due_at:
        close.due_at = eight_d.due_at


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
                          now: dt.datetime, note: str | None, detail: str | None = None) -> None:
    """Ours opens the corrective action the procedure requires (SPEC §6, once per
    complaint); the customer's rests on the quality information reply, the supplier's on
    its reference (`detail`), which closing asks for."""
    if decision not in RESPONSIBILITY:
        raise UserError(T("Choose ours, the customer's or the supplier's."))
    _require_open(complaint)
    previous = complaint.responsibility
    if previous != decision:
        if detail == complaint.responsibility_detail:
            detail = None  # what the dialog showed was for the other decision
        complaint.responsibility_detail = None
    complaint.responsibility = decision
    if detail:
        complaint.responsibility_detail = detail
    complaint.updated_at = now
    if previous == "customer" and decision != "customer":  # the reply is no longer asked for
        session.execute(update(CorrectiveAction).where(
            CorrectiveAction.complaint_id == complaint.id, CorrectiveAction.trigger_kind == QUALITY_INFO_REPLY,
            CorrectiveAction.status.not_in(("verified", "closed"))).values(
            status="closed", closed_at=now,
            verification=f"撤销：责任判定改为{decision} / withdrawn: responsibility decided as {decision}"))
    if decision == "customer":
        open_quality_info_reply(session, complaint, now, detail or complaint.responsibility_detail)
    if decision == "ours":
        open_corrective_action(session, complaint, by, now)
        session.execute(update(CorrectiveAction).where(  # ours again: a withdrawn action comes back
            CorrectiveAction.complaint_id == complaint.id, CorrectiveAction.trigger_kind == "complaint",
            CorrectiveAction.status == "closed", CorrectiveAction.verification.like("撤销%")).values(
            status="open", closed_at=None, verification=None))
    elif previous == "ours":  # not ours after all: the action it opened is withdrawn, on the record
        session.execute(update(CorrectiveAction).where(
            CorrectiveAction.complaint_id == complaint.id, CorrectiveAction.trigger_kind == "complaint",
            CorrectiveAction.status.not_in(("verified", "closed"))).values(
            status="closed", closed_at=now,
            verification=f"撤销：责任判定改为{decision} / withdrawn: responsibility decided as {decision}"))


def open_quality_info_reply(session: Session, complaint: Complaint, now: dt.datetime, reply: str | None) -> None:
    """The customer's responsibility rests on the quality information reply (质量信息回复单,
    003 6.2) the customer confirms: an action of its own, owned by the complaint's owner,
    closed when the customer's answer is recorded."""
    customer = session.get(Customer, complaint.customer_id)
    names = (customer.name_zh, customer.name_en) if customer is not None else ("", "")
    key = f"{QUALITY_INFO_REPLY}:{complaint.number}"
    existing = session.scalar(select(CorrectiveAction).where(CorrectiveAction.trigger_key == key))
    if existing is not None:
        if existing.status == "closed" and (existing.verification or "").startswith("撤销"):
            existing.status, existing.closed_at, existing.verification = "assigned", None, None  # decided so again
        return
    insert_ignoring_conflicts(session, CorrectiveAction, [{
        "trigger_key": key, "trigger_kind": QUALITY_INFO_REPLY,
        "trigger_detail": {"number": complaint.number, "reply": (reply or "")[:2000]},
        "customer_id": complaint.customer_id, "complaint_id": complaint.id, "area": "service",
        "owner_department": department_name(session, "service"), "owner_id": complaint.owner_id,
        "title": f"{names[0]}：投诉 {complaint.number} 质量信息回复单，待顾客确认 / {names[1]}: quality information "
                 f"reply for complaint {complaint.number}, for the customer to confirm",
        "due_date": due_in_working_days(session, now), "status": "assigned" if complaint.owner_id else "open",
        "opened_at": now}])


def open_corrective_action(session: Session, complaint: Complaint, by: int | None, now: dt.datetime) -> None:
    customer = session.get(Customer, complaint.customer_id)
    names = (customer.name_zh, customer.name_en) if customer is not None else ("", "")
    symptom = complaint.symptom[:120]
    area, owner = route(session, "complaint", {"number": complaint.number}, complaint.cause_category,
                        customer.owner_id if customer is not None else None)
    insert_ignoring_conflicts(session, CorrectiveAction, [{
        "trigger_key": f"complaint:{complaint.number}", "trigger_kind": "complaint",
        "trigger_detail": {"number": complaint.number}, "customer_id": complaint.customer_id,
        "complaint_id": complaint.id, "area": area, "owner_department": department_name(session, area),
        "owner_id": owner or complaint.owner_id,
        "title": f"{names[0]}：投诉 {complaint.number}（{symptom}）纠正措施 / {names[1]}: corrective action for "
                 f"complaint {complaint.number} ({symptom})",
        "due_date": due_in_working_days(session, now), "status": "open", "opened_at": now}])


def closing_gaps(session: Session, complaint: Complaint) -> list[Text]:
    """What the procedure requires before a complaint is closed (003 6.2–6.4), and is not
    there yet: each names the button that records it."""
    gaps: list[Text] = []
    if not complaint.first_response:
        gaps.append(T("the first response to the customer (First response)"))
    if complaint.responsibility is None:
        gaps.append(T("the responsibility decision (Responsibility)"))
    elif complaint.responsibility == "ours":
        if not complaint.investigation:
            gaps.append(T("the investigation and proposed measures (Investigation)"))
        report = session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))
        if report is None or report.submitted_at is None:
            gaps.append(T("the complete 8D, D1–D8 or an attached report (8D report)"))
        if session.scalar(select(CorrectiveAction.id).where(CorrectiveAction.complaint_id == complaint.id,
                                                            CorrectiveAction.trigger_kind == "complaint")) is None:
            open_corrective_action(session, complaint, None, complaint.updated_at)
    elif not complaint.responsibility_detail:
        gaps.append(T("the quality information reply the customer confirms (Responsibility)")
                    if complaint.responsibility == "customer" else
                    T("the supplier's reference under the supplier quality agreement (Responsibility)"))
    return gaps


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


class NotClosable(UserError):
    """What is missing before a complaint can be closed."""


def close(session: Session, complaint: Complaint, reply: str, by: int | None, now: dt.datetime,
          cost: Decimal | None = None, tz: ZoneInfo = COMPANY_TZ) -> None:
    """Close: every step the procedure requires is there (closing_gaps), so each deadline
    was met or breached by its own step; only the steps the responsibility makes
    unnecessary (investigation and 8D when it is not ours) become "not needed"."""
    _require_open(complaint)
    gaps = closing_gaps(session, complaint)
    if gaps:
        raise NotClosable(T("Before closing, record {missing}.", missing=join_texts(gaps)))
    if complaint.status == "waiting_customer":
        resume(session, complaint, by, now, tz)
    complaint.reply_to_customer = reply
    complaint.closed_at = now
    if cost is not None:
        complaint.cost = cost
    meet(session, complaint, "close", now)
    if complaint.responsibility != "ours":
        session.execute(update(ComplaintDeadline).where(
            ComplaintDeadline.complaint_id == complaint.id, ComplaintDeadline.state == "open",
            ComplaintDeadline.milestone.in_(NOT_NEEDED_UNLESS_OURS)).values(state="not_needed"))
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
