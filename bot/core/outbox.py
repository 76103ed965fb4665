"""The outbox: every outbound message is a row with a unique idempotency key.

Enqueueing the same key twice (a restart, a second replica) inserts one row. Delivery
claims a row with a conditional UPDATE, so two deliverers never send the same row; it
honours Retry-After, backs off on other failures, and records where the message landed so
that later messages can thread under it or update it in place.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.ports import DeliveryError, Messenger, Posted
from bot.core.views import Home, Message, home_from_dict, home_to_dict, message_from_dict, message_to_dict
from storage.db import insert_ignoring_conflicts, transaction
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

CLAIM_SECONDS = 600
MAX_ATTEMPTS = 8
PARENT_WAIT = dt.timedelta(hours=1)
MAX_HOLD_SECONDS = 5.0
RECOVERY_STEP = 0.01  # of the configured rate, per send
KINDS = ("post", "dm", "update", "ephemeral", "home", "image")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Queued:
    """One message to queue; see enqueue()."""

    key: str
    kind: str
    target: str
    message: Message | Home | None
    thread_of: str | None = None
    update_of: str | None = None
    ephemeral_user: str | None = None
    image: bytes | None = None
    image_title: str = ""
    not_before: dt.datetime | None = None


def _row(item: Queued, now: dt.datetime) -> dict[str, Any]:
    if item.kind not in KINDS:
        raise ValueError(f"unknown outbox kind {item.kind!r}")
    if item.message is None and item.kind != "image":
        raise ValueError(f"an outbox {item.kind!r} needs a message")
    if item.kind == "image" and not item.image:
        raise ValueError("an outbox image needs the image")
    payload: dict[str, Any] = {}
    if isinstance(item.message, Home):
        payload["home"] = home_to_dict(item.message)
    elif item.message is not None:
        payload["message"] = message_to_dict(item.message)
    for name, value in (("thread_of", item.thread_of), ("update_of", item.update_of), ("user", item.ephemeral_user),
                        ("image_title", item.image_title)):
        if value:
            payload[name] = value
    return {"idempotency_key": item.key, "kind": item.kind, "target": item.target, "payload": payload,
            "image": item.image, "status": "pending", "attempts": 0, "next_attempt_at": item.not_before or now,
            "created_at": now}


def enqueue(
    session: Session,
    key: str,
    kind: str,
    target: str,
    message: Message | Home | None,
    now: dt.datetime,
    *,
    thread_of: str | None = None,
    update_of: str | None = None,
    ephemeral_user: str | None = None,
    image: bytes | None = None,
    image_title: str = "",
    not_before: dt.datetime | None = None,
) -> bool:
    """Queue a message once per key. `thread_of` names the outbox key of the message to
    reply under; `update_of` the key of the message to replace. Returns True if new."""
    return bool(enqueue_many(session, [Queued(key, kind, target, message, thread_of, update_of, ephemeral_user,
                                              image, image_title, not_before)], now))


def enqueue_many(session: Session, items: list[Queued], now: dt.datetime, chunk: int = 500) -> int:
    """Queue many messages in a few statements; returns how many were new."""
    rows = [_row(item, now) for item in items]
    return sum(insert_ignoring_conflicts(session, OutboxMessage, rows[i : i + chunk])
               for i in range(0, len(rows), chunk))


# --- what is queued: the only place that knows how keys are matched -------------------------------------


def _under(subject: str) -> Any:
    """Keys that start with `subject` (LIKE with its wildcards escaped)."""
    escaped = subject.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return OutboxMessage.idempotency_key.like(escaped + "%", escape="\\")


def exists(session: Session, key: str) -> bool:
    """Whether a message with this key was ever queued (whatever became of it)."""
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)) is not None


def queued(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these keys were ever queued."""
    wanted = list(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(session.scalars(select(OutboxMessage.idempotency_key).where(
            OutboxMessage.idempotency_key.in_(wanted[start : start + 500]))))
    return found


def queued_for(session: Session, subject: str) -> set[str]:
    """Every key queued for a subject: the keys that start with `subject`
    (e.g. `datacall:2026-09:` for everything the month's call sent)."""
    return set(session.scalars(select(OutboxMessage.idempotency_key).where(_under(subject))))


def any_queued_for(session: Session, subject: str, ending: str = "") -> bool:
    """Whether anything was queued for a subject, optionally only keys ending with `ending`."""
    condition = _under(subject)
    if ending:
        condition = and_(condition, OutboxMessage.idempotency_key.endswith(ending, autoescape=True))
    return session.scalar(select(OutboxMessage.id).where(condition).limit(1)) is not None


def update_in_place(session: Session, of_key: str, version: str, target: str, message: Message,
                    now: dt.datetime) -> bool:
    """Replace the message queued as `of_key` with a newer version: updates of it still
    waiting and unclaimed are superseded (only the newest is worth sending)."""
    session.execute(update(OutboxMessage).where(
        _under(f"{of_key}:v"), OutboxMessage.status == "pending", OutboxMessage.claimed_by.is_(None))
        .values(status="superseded"))
    return enqueue(session, f"{of_key}:v{version}", "update", target, message, now, update_of=of_key)


class Pacer:
    """Spaces sends to a rate (messages per second), so a fan-out to thousands of people
    stays under the messenger's limit instead of bouncing off it."""

    def __init__(self, per_second: float, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.base_interval = self.interval  # the configured pace, which the pace recovers to
        self.sleep = sleep
        self.monotonic = monotonic
        self.next_slot = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.monotonic()
            slot = max(now, self.next_slot)
            self.next_slot = slot + self.interval
            if self.interval > self.base_interval:  # additive increase back to the configured pace
                rate = 1.0 / self.interval + RECOVERY_STEP / self.base_interval
                self.interval = max(self.base_interval, 1.0 / rate)
        if slot > now:
            self.sleep(slot - now)

    def __deepcopy__(self, memo: dict[int, Any]) -> Pacer:
        """One pace per process: copies (bolt copies the Web API client per request) share it."""
        return self

    def rate_limited(self, retry_after: float) -> None:
        """The messenger said 429: the next send waits out a short Retry-After (a long one is
        left to the outbox, which reschedules the row rather than hold a thread asleep), and
        the pace slows by a tenth; each send after that adds back a hundredth of the
        configured rate, so a burst of 429s costs minutes, not the life of the process."""
        with self.lock:
            self.next_slot = max(self.next_slot, self.monotonic() + min(retry_after, MAX_HOLD_SECONDS))
            if self.interval:
                self.interval *= 1.1


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


class Deliverer:
    """Sends due outbox rows through a messenger port.

    A row is claimed for CLAIM_SECONDS, longer than the slowest send (the Web API client's
    timeout and retries included); the claim is taken and checked with the clock's time at
    that moment, so a long batch cannot leave a row claimable by a second deliverer while it
    is still being sent.
    """

    def __init__(self, factory: sessionmaker[Session], messenger: Messenger, clock: Clock,
                 worker: str | None = None, pacer: Pacer | None = None) -> None:
        self.factory = factory
        self.messenger = messenger
        self.clock = clock
        self.worker = worker or worker_id()
        self.pacer = pacer or Pacer(0)

    def due_ids(self, now: dt.datetime, limit: int, keys: list[str] | None = None,
                newest_first: bool = False) -> list[int]:
        with self.factory() as session:
            order = (OutboxMessage.id.desc(),) if newest_first else (OutboxMessage.next_attempt_at, OutboxMessage.id)
            query = (
                select(OutboxMessage.id)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                .where(or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
                .order_by(*order)
                .limit(limit)
            )
            if keys is not None:
                query = query.where(OutboxMessage.idempotency_key.in_(keys))
            return list(session.scalars(query))

    def claim(self, row_id: int) -> bool:
        now = self.clock.now()
        with transaction(self.factory) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == "pending",
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .values(claimed_by=self.worker, claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def deliver_due(self, now: dt.datetime, limit: int = 500, keys: list[str] | None = None) -> DeliveryReport:
        """Deliver what is due as of `now`; `keys` restricts to those rows."""
        return self._deliver(now, limit, keys, newest_first=False, rounds=None)

    def deliver_newest(self, now: dt.datetime, limit: int = 20) -> DeliveryReport:
        """Right after a request: the newest due rows (what the person is waiting for), sent
        oldest first so a thread's parent goes before its replies; a few rounds at most, so
        that a reply never queues behind a fan-out to thousands."""
        return self._deliver(now, limit, None, newest_first=True, rounds=3)

    def _deliver(self, now: dt.datetime, limit: int, keys: list[str] | None, newest_first: bool,
                 rounds: int | None) -> DeliveryReport:
        report = DeliveryReport()
        while rounds is None or rounds > 0:
            if rounds is not None:
                rounds -= 1
            ids = sorted(self.due_ids(now, limit, keys, newest_first))  # within a batch, parents first
            progressed = False
            for row_id in ids:
                if not self.claim(row_id):
                    continue
                outcome = self._deliver_claimed(row_id, now)
                setattr(report, outcome, getattr(report, outcome) + 1)
                progressed = progressed or outcome == "sent"
            if not progressed:
                return report
        return report

    def _deliver_claimed(self, row_id: int, now: dt.datetime) -> str:
        with self.factory() as session:
            row = session.get(OutboxMessage, row_id)
            assert row is not None
            kind, target, payload, image = row.kind, row.target, dict(row.payload), row.image
            attempts, created_at = row.attempts, row.created_at
            parent = self._parent(session, payload)
            stale = kind == "update" and self._newer_update_sent(session, row)
        if stale:  # a later version of the message is already showing: this one would undo it
            self._finish(row_id, "superseded", now, None, None, attempts)
            return "deferred"
        if parent is False:
            if now - created_at > PARENT_WAIT:
                self._finish(row_id, "failed", now, None, "the message it belongs to was never sent")
                return "failed"
            return self._release(row_id, now + dt.timedelta(seconds=5), "waiting for the parent message", attempts)
        try:
            self.pacer.wait()
            posted = self._send(kind, target, payload, image, parent)
        except Exception as error:  # a broken row must fail on its own, not stop the batch
            permanent = isinstance(error, DeliveryError) and error.permanent
            attempts += 1
            if permanent or attempts >= MAX_ATTEMPTS:
                self._finish(row_id, "failed", now, None, f"{type(error).__name__}: {error}", attempts)
                log.error("outbox %s failed for good: %s", row_id, error)
                return "failed"
            retry_after = error.retry_after if isinstance(error, DeliveryError) else None
            delay = retry_after if retry_after is not None else min(2 ** attempts, 600)
            if not isinstance(error, DeliveryError):
                log.exception("outbox %s: unexpected error", row_id)
            return self._release(row_id, now + dt.timedelta(seconds=delay), str(error), attempts)
        self._finish(row_id, "sent", now, posted, None, attempts + 1)
        return "sent"

    @staticmethod
    def _newer_update_sent(session: Session, row: OutboxMessage) -> bool:
        parent = row.payload.get("update_of")
        newer = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.kind == "update", OutboxMessage.id > row.id, OutboxMessage.status == "sent",
            OutboxMessage.target == row.target, OutboxMessage.idempotency_key.like(f"{parent}%")).limit(1))
        return newer is not None

    def _parent(self, session: Session, payload: dict[str, Any]) -> Posted | None | bool:
        """Where the parent of a thread reply or an update landed; False while it has not."""
        key = payload.get("thread_of") or payload.get("update_of")
        if not key:
            return None
        parent = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))
        if parent is None or parent.status != "sent" or not parent.result_ts:
            if parent is not None and parent.status == "failed":
                return None
            return False
        return Posted(channel=parent.result_channel or parent.target, ts=parent.result_ts)

    def _send(self, kind: str, target: str, payload: dict[str, Any], image: bytes | None,
              parent: Posted | None | bool) -> Posted:
        thread_ts = parent.ts if isinstance(parent, Posted) and "thread_of" in payload else None
        if kind == "home":
            home: Home = home_from_dict(payload["home"])
            return self.messenger.publish_home(target, home)
        if kind == "image":
            if image is None:
                raise DeliveryError("an image message without an image", permanent=True)
            channel = parent.channel if isinstance(parent, Posted) else target
            return self.messenger.upload_image(channel, image, "chart.png", payload.get("image_title", ""),
                                               thread_ts)
        message = message_from_dict(payload["message"])
        if kind == "post":
            return self.messenger.post(target, message, thread_ts)
        if kind == "dm":
            if isinstance(parent, Posted) and thread_ts:
                return self.messenger.post(parent.channel, message, thread_ts)
            return self.messenger.direct_message(target, message)
        if kind == "ephemeral":
            return self.messenger.post_ephemeral(target, payload["user"], message)
        if kind == "update":
            if not isinstance(parent, Posted):
                raise DeliveryError("the message to update was never sent", permanent=True)
            return self.messenger.update(parent.channel, parent.ts, message)
        raise DeliveryError(f"unknown kind {kind}", permanent=True)

    def _release(self, row_id: int, when: dt.datetime, error: str, attempts: int) -> str:
        with transaction(self.factory) as session:
            session.execute(update(OutboxMessage).where(
                and_(OutboxMessage.id == row_id, OutboxMessage.claimed_by == self.worker)).values(
                claimed_by=None, claimed_until=None, next_attempt_at=when, last_error=error, attempts=attempts))
        return "deferred"

    def _finish(self, row_id: int, status: str, now: dt.datetime, posted: Posted | None, error: str | None,
                attempts: int = 0) -> None:
        with transaction(self.factory) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == self.worker)
                .values(status=status, sent_at=now if posted else None, claimed_until=None, last_error=error,
                        attempts=attempts, result_channel=posted.channel if posted else None,
                        result_ts=posted.ts if posted else None)
            )
            if result.rowcount != 1:
                log.warning("outbox %s: claim lost before it was marked %s", row_id, status)


def pending_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    ) or 0
