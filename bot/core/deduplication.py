"""Events a messenger may deliver more than once (Slack retries an event it thinks was not
received): each is handled once, recorded in the handler's own transaction."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from storage.db import insert_ignoring_conflicts
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)


def first_time(session: Session, event_id: str | None, now: dt.datetime) -> bool:
    """Record an event id: retries of an event that was handled are ignored, and an event
    whose handling failed (the transaction rolled back) is handled when it comes again."""
    if not event_id:
        return True
    fresh = insert_ignoring_conflicts(session, ProcessedEvent, [{"event_id": event_id, "received_at": now}])
    if not fresh:
        log.info("event %s already handled; retry ignored", event_id)
    return bool(fresh)
