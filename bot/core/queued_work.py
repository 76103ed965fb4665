"""Work handed from one process to another, kept in the database until it is done: the
process that takes it claims it for a while; if that process dies (killed, out of
memory), the claim runs out and another takes the work again. Work is repeated at most
`MAX_ATTEMPTS` times, since work that kills its process every time must not kill every
process in turn. Whatever is repeated must be safe to repeat (every answer of the bot is:
it replaces a placeholder, and its messages go through the outbox with their keys)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from storage.models import QueuedWork

CLAIM = dt.timedelta(minutes=2)  # longer than any answer takes; a dead taker's work waits this long at most
UNTAKEN = dt.timedelta(seconds=10)  # work nobody took by then lost its signal (its taker died holding it)
MAX_ATTEMPTS = 3

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Work:
    id: int
    name: str
    body: str
    headers: dict[str, Any]
    attempts: int


def _relaxed(session: Session) -> Session:
    """On PostgreSQL, this transaction's commit does not wait for its write-ahead log to
    reach the disk: three commits per answer would otherwise queue behind every other
    commit's flush. A server crash may lose the last fraction of a second of them, which
    is no worse than the signal queue they back up, and cannot corrupt anything."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    return session


def queue(factory: sessionmaker[Session], works: list[tuple[str, str, dict[str, Any]]], now: dt.datetime
          ) -> list[int]:
    """Keep each work (its name, body and headers), in one transaction; their ids, to
    signal them by."""
    with factory() as session:
        _relaxed(session)
        ids = [session.execute(insert(QueuedWork).values(name=name, body=body, headers=headers, queued_at=now,
                                                         attempts=0).returning(QueuedWork.id)).scalar_one()
               for name, body, headers in works]
        session.commit()
    return [int(work_id) for work_id in ids]


def claim(factory: sessionmaker[Session], work_id: int, taker: str, now: dt.datetime) -> Work | None:
    """The work, claimed by `taker`, if it is still there and nobody else holds it."""
    with factory() as session:
        _relaxed(session)
        taken = session.execute(
            update(QueuedWork)
            .where(QueuedWork.id == work_id,
                   or_(QueuedWork.claimed_until.is_(None), QueuedWork.claimed_until <= now))
            .values(claimed_by=taker, claimed_until=now + CLAIM, attempts=QueuedWork.attempts + 1))
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            return None
        row = session.get(QueuedWork, work_id)
        assert row is not None
        work = Work(row.id, row.name, row.body, dict(row.headers), row.attempts)
        session.commit()
    return work


def done(factory: sessionmaker[Session], work_id: int, taker: str) -> None:
    with factory() as session:
        _relaxed(session)
        session.execute(delete(QueuedWork).where(QueuedWork.id == work_id, QueuedWork.claimed_by == taker))
        session.commit()


def left_behind(factory: sessionmaker[Session], now: dt.datetime, limit: int = 20) -> list[int]:
    """Work whose taker died (its claim ran out) or that nobody took; work tried
    `MAX_ATTEMPTS` times and left behind again is given up, with an error in the log."""
    with factory() as session:
        _relaxed(session)
        abandoned = and_(QueuedWork.claimed_until.is_not(None), QueuedWork.claimed_until <= now)
        untaken = and_(QueuedWork.claimed_until.is_(None), QueuedWork.queued_at <= now - UNTAKEN)
        hopeless = session.execute(delete(QueuedWork).where(abandoned, QueuedWork.attempts >= MAX_ATTEMPTS))
        ids = list(session.scalars(select(QueuedWork.id).where(or_(abandoned, untaken))
                                   .order_by(QueuedWork.id).limit(limit)))
        session.commit()
    if hopeless.rowcount:  # type: ignore[attr-defined]
        log.error("gave up %s queued answers after %s attempts each", hopeless.rowcount, MAX_ATTEMPTS)  # type: ignore[attr-defined]
    return ids
