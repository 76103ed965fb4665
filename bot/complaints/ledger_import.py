"""Backfilling an existing complaint ledger from CSV or XLSX, all or nothing, and safe to
repeat: a row matches the complaint it describes (by its number, or by customer, receipt
time, product and batch) and updates it instead of adding a second one.

Each step's time comes from the ledger (`first_response_at`, `investigated_at`,
`eight_d_at`, `closed_at`) and each deadline is judged against it: met on time, breached
when late, and breached from its due time on when the ledger has no time for it, never met
by the import. The status history follows the order in which things happened."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.complaints.intake import (
    IntakeRules,
    NewComplaint,
    keep_number,
    log_complaint,
    schedule_deadlines,
    validate_complaint,
)
from bot.complaints.terms import SEVERITIES
from bot.core.inputs import column_length
from bot.core.spreadsheets import ImportResult, Row, RowError, RowErrors, cell_error, read_table
from bot.core.texts import T, Text
from storage.models import Complaint, ComplaintDeadline, ComplaintStatusChange

IMPORT_COLUMNS = ["number", "customer", "received_at", "severity", "product_model", "quantity", "batch", "symptom",
                  "contact_name", "contact_phone", "status", "first_response_at", "investigated_at", "eight_d_at",
                  "closed_at", "reply"]
# the ledger's column for the time each deadline's step was done
STEP_COLUMNS = {"first_response": "first_response_at", "investigation": "investigated_at", "eight_d": "eight_d_at",
                "close": "closed_at"}
# the status each step leaves the complaint in, in the order of the procedure
STEP_STATUS = {"first_response": "acknowledged", "investigation": "investigating", "eight_d": "eight_d",
               "close": "closed"}
SEVERITY_WORDS = {**{k: k for k in SEVERITIES}, "一般": "general", "严重": "serious", "紧急": "urgent"}
CLOSED_WORDS = ("closed", "关闭", "已关闭")
OPEN_WORDS = ("open", "打开", "处理中", "")
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class LedgerRow:
    """One row, validated: the complaint's facts and the times of its steps."""

    def __init__(self, data: NewComplaint, number: str | None, steps: dict[str, dt.datetime], reply: str | None):
        self.data, self.number, self.steps, self.reply = data, number, steps, reply

    @property
    def identity(self) -> tuple[Any, ...]:
        data = self.data
        return (data.customer.id, data.received_at, (data.product_model or "").lower(), (data.batch or "").lower())


def _time(raw: str, tz: ZoneInfo) -> dt.datetime | None:
    moment = dt.datetime.fromisoformat(raw.strip().replace("/", "-"))
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _column_error(row: Row, column: str, message: Text) -> RowError:
    return RowError(row.number, T("Column {column}: {message}", column=column, message=message))


def _validate(session: Session, row: Row, now: dt.datetime, tz: ZoneInfo) -> tuple[LedgerRow | None, list[RowError]]:
    v = row.values
    errors: list[RowError] = []
    bad_time = T("{value!r} is not a date and time (YYYY-MM-DD HH:MM).", value=v.get("received_at", ""))
    received = None
    try:
        received = _time(v["received_at"], tz)
    except ValueError:
        errors.append(_column_error(row, "received_at", bad_time))
    severity = SEVERITY_WORDS.get(v.get("severity", "").strip().lower() or "general")
    if severity is None:
        errors.append(cell_error(row, "severity", T("not a severity."), sorted(SEVERITY_WORDS)))
    values = {"customer": v.get("customer"), "severity": severity or "general", "symptom": v.get("symptom"),
              "quantity": v.get("quantity"), "product_model": v.get("product_model"), "batch": v.get("batch"),
              "contact_name": v.get("contact_name"), "contact_phone": v.get("contact_phone"),
              "received_at": str(int(received.timestamp())) if received else None}
    data, field_errors = validate_complaint(session, values, now)
    errors += [_column_error(row, name, message) for name, message in field_errors.items()]
    number = (v.get("number") or "").strip().upper() or None
    if number is not None and (not NUMBER.match(number) or len(number) > (column_length(Complaint.number) or 32)):
        errors.append(_column_error(row, "number", T("{value!r} is not a complaint number.", value=number)))
    steps: dict[str, dt.datetime] = {}
    for milestone, column in STEP_COLUMNS.items():
        raw = (v.get(column) or "").strip()
        if not raw:
            continue
        try:
            moment = _time(raw, tz)
        except ValueError:
            errors.append(_column_error(row, column, T("{value!r} is not a date and time (YYYY-MM-DD HH:MM).",
                                                       value=raw)))
            continue
        assert moment is not None
        if received is not None and moment < received:
            errors.append(_column_error(row, column, T("It is before the complaint was received.")))
        elif moment > now:
            errors.append(_column_error(row, column, T("It is in the future.")))
        else:
            steps[milestone] = moment
    status = (v.get("status") or "").strip().lower()
    if status in CLOSED_WORDS and "close" not in steps and not any(e.row == row.number for e in errors):
        errors.append(_column_error(row, "closed_at", T("A closed complaint needs the time it was closed.")))
    elif status not in CLOSED_WORDS + OPEN_WORDS:
        errors.append(_column_error(row, "status", T("Use open or closed.")))
    if status in OPEN_WORDS and status and "close" in steps:
        errors.append(_column_error(row, "status", T("The row says open but gives a closing time.")))
    if errors or data is None:
        return None, errors
    return LedgerRow(data, number, steps, (v.get("reply") or "").strip() or None), []


def import_complaints(session: Session, path: Path, now: dt.datetime, tz: ZoneInfo) -> ImportResult:
    """Backfill or update a complaint ledger; all or nothing, row-numbered errors. Deadlines
    already past are recorded as they stand without warning anyone: a backfill must not
    flood the channel with yesterday's breaches."""
    rows = read_table(path, ["customer", "received_at", "severity", "symptom"], IMPORT_COLUMNS)
    errors = RowErrors()
    records: list[tuple[int, LedgerRow]] = []
    seen: dict[Any, int] = {}
    for row in rows:
        record, row_errors = _validate(session, row, now, tz)
        errors.extend(row_errors)
        if record is None:
            continue
        key = record.number or record.identity
        if key in seen:
            errors.append(RowError(row.number, T("The same complaint is already in row {row}.", row=seen[key])))
            continue
        seen[key] = row.number
        records.append((row.number, record))
    matches: dict[int, Complaint] = {}
    for row_number, record in records:
        existing = _match(session, record)
        if existing is not None and existing.source != "import":
            errors.append(RowError(row_number, T("{number} was logged in csatbot, not imported: the ledger import "
                                                 "leaves it as it is.", number=existing.number)))
        elif existing is not None:
            matches[row_number] = existing
    if errors:
        return ImportResult(errors=errors)
    result = ImportResult()
    rules = IntakeRules.load(session)
    # the file's own numbers first, so none is handed out to another row: each year's counter
    # moves once, past the highest number of that year in the file
    highest: dict[str, tuple[int, str]] = {}
    for _row, record in records:
        stem, _, sequence = (record.number or "").rpartition("-")
        if stem and sequence.isdigit() and int(sequence) > highest.get(stem, (-1, ""))[0]:
            highest[stem] = (int(sequence), str(record.number))
    for _sequence, number in highest.values():
        keep_number(session, number)
    for row_number, record in records:
        complaint = matches.get(row_number)
        if complaint is None:
            complaint = log_complaint(session, record.data, None, now, tz, source="import", number=record.number,
                                      rules=rules)
            result.created += 1
        elif _worked_since(session, complaint):
            result.skipped += 1  # handled in csatbot since it was imported: the ledger is older than that
            continue
        elif _update(session, complaint, record, rules, tz):
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        _apply_steps(session, complaint, record, now)
    return result


def _worked_since(session: Session, complaint: Complaint) -> bool:
    """Someone took a step on it in csatbot (imports record no person)."""
    return session.scalar(select(ComplaintStatusChange.id).where(
        ComplaintStatusChange.complaint_id == complaint.id, ComplaintStatusChange.changed_by_id.is_not(None))
        .limit(1)) is not None or complaint.responsibility is not None


def _match(session: Session, record: LedgerRow) -> Complaint | None:
    """By the ledger's number; failing that by customer, receipt, product and batch (the
    number may have been added to the ledger since the first import)."""
    if record.number:
        found = session.scalar(select(Complaint).where(Complaint.number == record.number))
        if found is not None:
            return found
    data = record.data
    for candidate in session.scalars(select(Complaint).where(Complaint.customer_id == data.customer.id,
                                                             Complaint.received_at == data.received_at)):
        if ((candidate.product_model or "").lower(), (candidate.batch or "").lower()) == record.identity[2:]:
            return candidate
    return None


FACTS = ("contact_name", "contact_phone", "product_model", "quantity", "batch", "symptom", "severity")


def _update(session: Session, complaint: Complaint, record: LedgerRow, rules: IntakeRules, tz: ZoneInfo) -> bool:
    """The ledger's facts and step times over an imported complaint; False if nothing differs."""
    data = record.data
    changed = [name for name in FACTS if getattr(complaint, name) != getattr(data, name)]
    if complaint.received_at != data.received_at:
        changed.append("received_at")
    if complaint.customer_id != data.customer.id:
        changed.append("customer_id")
    renumbered = record.number is not None and record.number != complaint.number
    steps_before = _recorded_steps(session, complaint)
    if not changed and not renumbered and steps_before == record.steps and complaint.reply_to_customer == record.reply:
        return False
    for name in changed:
        setattr(complaint, name, data.customer.id if name == "customer_id" else getattr(data, name))
    if renumbered:
        keep_number(session, str(record.number))
        complaint.number = str(record.number)
    if {"severity", "received_at", "customer_id"} & set(changed):  # the deadlines again, from the receipt
        session.execute(delete(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id))
        schedule_deadlines(session, complaint, rules.calendar, tz, rules.warn_fraction, rules.book)
    session.execute(delete(ComplaintStatusChange).where(ComplaintStatusChange.complaint_id == complaint.id))
    session.add(ComplaintStatusChange(complaint_id=complaint.id, from_status=None, to_status="new",
                                      changed_at=complaint.received_at, note=None))
    complaint.status = "new"
    session.flush()
    return True


def _recorded_steps(session: Session, complaint: Complaint) -> dict[str, dt.datetime]:
    return {d.milestone: d.met_at for d in session.scalars(select(ComplaintDeadline).where(
        ComplaintDeadline.complaint_id == complaint.id)) if d.milestone in STEP_COLUMNS and d.met_at is not None}


def _apply_steps(session: Session, complaint: Complaint, record: LedgerRow, now: dt.datetime) -> None:
    """Judge every deadline by the ledger's times and write the status history in the order
    things happened."""
    received = record.data.received_at
    complaint.registered_at = received  # the ledger had it; registering late is not this import's fault
    for deadline in session.scalars(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id == complaint.id)):
        done = received if deadline.milestone == "register" else record.steps.get(deadline.milestone)
        deadline.met_at, deadline.breached_at, deadline.warned_at = done, None, None
        if done is not None:
            deadline.state = "met" if done <= deadline.due_at else "breached"
        else:
            deadline.state = "breached" if deadline.due_at <= now else "open"
        if deadline.state == "breached":
            deadline.breached_at = deadline.due_at
        if deadline.warn_at is not None and deadline.warn_at <= now:
            deadline.warned_at = now  # past warnings are not sent after the fact
    history = session.scalar(select(ComplaintStatusChange).where(ComplaintStatusChange.complaint_id == complaint.id,
                                                                 ComplaintStatusChange.to_status == "new"))
    if history is not None:
        history.changed_at = received
    status = "new"
    # in the order they happened; closing is the last step, whatever time a ledger gives the others
    for milestone, moment in sorted(record.steps.items(), key=lambda item: (item[0] == "close", item[1])):
        session.add(ComplaintStatusChange(complaint_id=complaint.id, from_status=status,
                                          to_status=STEP_STATUS[milestone], changed_at=moment,
                                          note=record.reply if milestone == "close" else None))
        status = STEP_STATUS[milestone]
    if "close" in record.steps:
        status = "closed"
    complaint.status = status
    complaint.closed_at = record.steps.get("close")
    complaint.reply_to_customer = record.reply
    complaint.updated_at = now
    session.flush()
