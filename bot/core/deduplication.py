"""Requests a messenger may deliver more than once (Slack retries an event it thinks was not
received; a replayed dialog submission or button press): each is acted on once, recorded
in the transaction that acts on it, so a failure leaves it to be handled again."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.core.replies import Submitted
from storage.db import insert_ignoring_conflicts
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)


def submission_key(dialog: str) -> str:
    return f"submit:{dialog}"


def press_key(user_id: str, action_key: str) -> str:
    return f"press:{user_id}:{action_key}"


def forget(session: Session, event_id: str) -> None:
    """Undo first_time() for a request that turned out to change nothing (field errors)."""
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.event_id == _stored(event_id)))


def _stored(event_id: str) -> str:
    """Ids longer than the column stay unique as their digest."""
    return event_id if len(event_id) <= 64 else "sha1:" + hashlib.sha1(event_id.encode()).hexdigest()


def first_time(session: Session, event_id: str | None, now: dt.datetime) -> bool:
    """Record an event id: retries of an event that was handled are ignored, and an event
    whose handling failed (the transaction rolled back) is handled when it comes again."""
    if not event_id:
        return True
    event_id = _stored(event_id)
    fresh = insert_ignoring_conflicts(session, ProcessedEvent, [{"event_id": event_id, "received_at": now}])
    if not fresh:
        log.info("event %s already handled; retry ignored", event_id)
    return bool(fresh)


def once_per_dialog(session: Session, dialog: str, now: dt.datetime, attempt: Callable[[], Submitted]) -> Submitted:
    """`attempt` the first time a dialog's submission arrives (a repeat is accepted, and
    changes nothing); a refused attempt is forgotten, so the corrected one is taken."""
    key = submission_key(dialog) if dialog else None
    if key is not None and not first_time(session, key, now):
        return Submitted()
    outcome = attempt()
    if key is not None and not outcome.accepted:
        forget(session, key)
    return outcome
