"""Backfilling an existing complaint ledger from CSV or XLSX, all or nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.complaints.intake import log_complaint, validate_complaint
from bot.complaints.terms import SEVERITIES
from bot.complaints.workflow import set_status
from bot.core.spreadsheets import ImportResult, RowError, RowErrors, read_table
from bot.core.texts import T
from storage.models import (
    ComplaintDeadline,
)

IMPORT_COLUMNS = ["customer", "received_at", "severity", "product_model", "quantity", "batch", "symptom",
                  "contact_name", "contact_phone", "status", "closed_at", "reply"]


def import_complaints(session: Session, path: Path, now: dt.datetime, tz: ZoneInfo) -> ImportResult:
    """Backfill an existing complaint ledger; all or nothing, row-numbered errors. Optional
    `status` (open/closed), `closed_at` and `reply` columns carry a ledger's closed cases.
    Deadlines already past are recorded as they stand without warning anyone: a backfill
    must not flood the channel with yesterday's breaches."""
    rows = read_table(path, ["customer", "received_at", "severity", "symptom"], IMPORT_COLUMNS)
    severities = {**{k: k for k in SEVERITIES}, "一般": "general", "严重": "serious", "紧急": "urgent"}
    records = []
    errors = RowErrors()
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
