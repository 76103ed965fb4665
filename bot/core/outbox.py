"""The outbox: every outbound message is a row with a unique idempotency key.

Enqueueing the same key twice (a restart, a second replica) inserts one row. Delivery
claims a row with a conditional UPDATE, so two deliverers never send the same row; it
honours Retry-After, backs off on other failures, and records where the message landed so
that later messages can thread under it or update it in place.

Nothing lost: a transient failure is retried with capped backoff for as long as the
message matters (the retry horizon, or the row's own `expires_at`); only a permanent error
fails a row, and failed rows are listed for the quality engineers to retry. Nothing twice:
each post carries its key, and an attempt that may have landed (a 5xx, a timeout, a
deliverer that died holding the claim) is looked up in the conversation before it is
sent again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from bot.core.clock import Clock
from bot.core.ports import DeliveryError, Messenger, Posted
from bot.core.views import Home, Message, home_from_dict, home_to_dict, message_from_dict, message_to_dict
from storage.db import insert_ignoring_conflicts, transaction
from storage.models import OutboxMessage, PersonIdentity

log = logging.getLogger(__name__)

CLAIM_SECONDS = 600
DEFAULT_HORIZON = dt.timedelta(days=3)
MAX_BACKOFF_SECONDS = 900
# a programming error (a row the code cannot render) is not mended by waiting days
MAX_UNEXPECTED_ATTEMPTS = 8
# the messenger's clock and ours may differ a little: look a bit further back than the row's age
LOOKUP_MARGIN = dt.timedelta(minutes=10)
# kinds whose sending twice would show twice (updates and App Home replace; ephemerals are not stored)
LOOKED_UP_KINDS = ("post", "dm", "image")
MISSING = "missing"  # a thread reply's parent key that was never queued
# Slack shares an uploaded file after answering: give it time to show before looking for it
IMAGE_LOOKUP_DELAY_SECONDS = 60
# kinds worth sending again by hand: a stale App Home or ephemeral answer days later helps nobody
RETRYABLE_KINDS = ("post", "dm", "image", "update")
PARENT_WAIT = dt.timedelta(hours=1)
PARENT_IN_FLIGHT_WAIT_SECONDS = 3.0  # a send takes less; a deliverer that died mid-send is left to the job
PARENT_POLL_SECONDS = 0.05
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
    expires_at: dt.datetime | None = None
    file_name: str = ""  # an "image" that is another kind of file (a workbook): its name


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
                        ("image_title", item.image_title), ("file_name", item.file_name)):
        if value:
            payload[name] = value
    return {"idempotency_key": item.key, "kind": item.kind, "target": item.target, "payload": payload,
            "image": item.image, "status": "pending", "attempts": 0, "next_attempt_at": item.not_before or now,
            "created_at": now, "expires_at": item.expires_at, "in_doubt": False}


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
    expires_at: dt.datetime | None = None,
    file_name: str = "",
) -> bool:
    """Queue a message once per key. `thread_of` names the outbox key of the message to
    reply under; `update_of` the key of the message to replace; past `expires_at` the message
    is superseded instead of sent late; an "image" is a PNG chart unless `file_name` says
    what file it is. Returns True if new."""
    return bool(enqueue_many(session, [Queued(key, kind, target, message, thread_of, update_of, ephemeral_user,
                                              image, image_title, not_before, expires_at, file_name)], now))


# `session.info` of a company with its quality channel in two messengers: {target: its copy's target}
MIRRORS = "outbox_mirrors"
# `session.info` of a company that wants people with both ids written to in both messengers: the
# other messenger's name (a copy goes to `<messenger>:<userid>`, as bot.people.identities addresses it)
PERSONAL_COPIES = "outbox_personal_copies"
PERSONAL_KINDS = ("dm", "image", "update")
# before the key, so that what reads the keys of a subject (`queued_for`) never meets a copy
MIRROR_PREFIX = "copy:"
MIRRORED_KINDS = ("post", "update", "image")  # a channel's own messages; an ephemeral answer stays where it was


def mirror_key(key: str) -> str:
    return MIRROR_PREFIX + key


def _copies(session: Session, items: list[Queued]) -> list[Queued]:
    """What goes to a mirrored channel goes to its copy too, under its own key, in reply to
    or replacing the copy of what the original replies to or replaces."""
    mirrors: dict[str, str] = session.info.get(MIRRORS) or {}
    copies: list[Queued] = []
    for item in items if mirrors else []:
        copy_to = mirrors.get(item.target)
        if copy_to and item.kind in MIRRORED_KINDS:
            copies.append(dataclasses.replace(
                item, key=mirror_key(item.key), target=copy_to,
                thread_of=mirror_key(item.thread_of) if item.thread_of else None,
                update_of=mirror_key(item.update_of) if item.update_of else None))
    other = session.info.get(PERSONAL_COPIES)
    personal = [item for item in items if other and item.kind in PERSONAL_KINDS and not item.thread_of
                and ":" not in item.target]
    if personal:
        found = _other_ids(session, other, {item.target for item in personal})
        copied = queued(session, [mirror_key(item.update_of) for item in personal if item.update_of])
        copies += [dataclasses.replace(item, key=mirror_key(item.key), target=f"{other}:{found[item.target]}",
                                       update_of=mirror_key(item.update_of) if item.update_of else None)
                   for item in personal if item.target in found
                   and (not item.update_of or mirror_key(item.update_of) in copied)]  # a copy changes a copy
    return copies


def _other_ids(session: Session, messenger: str, slack_ids: set[str]) -> dict[str, str]:
    """Slack member id → the same person's id in the other messenger, for those who have one."""
    mine, theirs = aliased(PersonIdentity), aliased(PersonIdentity)
    return dict(session.execute(
        select(mine.user_id, theirs.user_id).join(theirs, theirs.person_id == mine.person_id)
        .where(mine.messenger == "slack", mine.user_id.in_(sorted(slack_ids)), theirs.messenger == messenger)).all())


def enqueue_many(session: Session, items: list[Queued], now: dt.datetime, chunk: int = 500) -> int:
    """Queue many messages in a few statements; returns how many were new (copies for a
    mirrored channel not counted)."""
    rows = [_row(item, now) for item in items]
    copies = [_row(item, now) for item in _copies(session, items)]
    new = sum(insert_ignoring_conflicts(session, OutboxMessage, rows[i : i + chunk])
              for i in range(0, len(rows), chunk))
    for start in range(0, len(copies), chunk):
        insert_ignoring_conflicts(session, OutboxMessage, copies[start : start + chunk])
    return new


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


def targets_for(session: Session, subject: str) -> dict[str, str]:
    """Key → target of every message queued for a subject (not their update versions)."""
    rows = session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.target)
                           .where(_under(subject), OutboxMessage.kind != "update"))
    return {key: target for key, target in rows}


def any_queued_for(session: Session, subject: str, ending: str = "") -> bool:
    """Whether anything was queued for a subject, optionally only keys ending with `ending`."""
    condition = _under(subject)
    if ending:
        condition = and_(condition, OutboxMessage.idempotency_key.endswith(ending, autoescape=True))
    return session.scalar(select(OutboxMessage.id).where(condition).limit(1)) is not None


def latest_message(session: Session, key: str) -> tuple[str, Message] | None:
    """The target and newest version of the message queued as `key` (its latest update, else
    itself): what a page that shows a sent message shows."""
    row = session.execute(select(OutboxMessage.target, OutboxMessage.payload).where(
        or_(OutboxMessage.idempotency_key == key, _under(f"{key}:v")), OutboxMessage.kind.in_(("post", "dm", "update")),
        OutboxMessage.status.in_(("sent", "pending"))).order_by(OutboxMessage.id.desc()).limit(1)).first()
    if row is None or "message" not in (row.payload or {}):
        return None
    return row.target, message_from_dict(row.payload["message"])


def sent_since(session: Session, target: str, since: dt.datetime) -> list[dt.datetime]:
    """When the messages to `target` went out since then, oldest first: what a messenger's
    limit per recipient counts, read from the database so that every replica counts alike."""
    return list(session.scalars(select(OutboxMessage.sent_at).where(
        OutboxMessage.target == target, OutboxMessage.status == "sent", OutboxMessage.sent_at >= since)
        .order_by(OutboxMessage.sent_at)))


def update_in_place(session: Session, of_key: str, version: str, target: str, message: Message,
                    now: dt.datetime) -> bool:
    """Replace the message queued as `of_key` with a newer version: updates of it still
    waiting and unclaimed are superseded (only the newest is worth sending)."""
    session.execute(update(OutboxMessage).where(
        or_(_under(f"{of_key}:v"), _under(f"{mirror_key(of_key)}:v")), OutboxMessage.status == "pending",
        OutboxMessage.claimed_by.is_(None)).values(status="superseded"))
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
    superseded: int = 0


class Deliverer:
    """Sends due outbox rows through a messenger port.

    A row is claimed for CLAIM_SECONDS, longer than the slowest send (the Web API client's
    timeout and retries included); the claim is taken and checked with the clock's time at
    that moment, so a long batch cannot leave a row claimable by a second deliverer while it
    is still being sent.
    """

    def __init__(self, factory: sessionmaker[Session], messenger: Messenger, clock: Clock,
                 worker: str | None = None, pacer: Pacer | None = None,
                 horizon: dt.timedelta = DEFAULT_HORIZON, sleep: Callable[[float], None] = time.sleep) -> None:
        self.factory = factory
        self.sleep = sleep
        self.messenger = messenger
        self.clock = clock
        self.worker = worker or worker_id()
        self.pacer = pacer or Pacer(0)
        self.horizon = horizon
        self._claims = threading.local()  # the claim token of the row this thread is sending

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

    def claim(self, row_id: int) -> str | None:
        """Take the row with a token of its own (threads of one process never mistake each
        other's claims); a row whose earlier claim expired (its deliverer died or hung
        mid-send) is marked in doubt from when that claim began, so it is looked up before it
        is sent again. The token, or None if the row is not free."""
        now = self.clock.now()
        token = f"{secrets.token_hex(4)}:{self.worker}"[:64]
        with transaction(self.factory) as session:
            old = session.execute(select(OutboxMessage.claimed_by, OutboxMessage.claimed_until,
                                         OutboxMessage.doubt_since)
                                  .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending")).first()
            if old is None or (old.claimed_until is not None and old.claimed_until >= now):
                return None
            values: dict[str, Any] = {"claimed_by": token, "claimed_until": now + dt.timedelta(seconds=CLAIM_SECONDS)}
            if old.claimed_by is not None:
                began = (old.claimed_until - dt.timedelta(seconds=CLAIM_SECONDS)) if old.claimed_until else now
                values.update(in_doubt=True, doubt_since=old.doubt_since or began)
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row_id,
                    OutboxMessage.status == "pending",
                    OutboxMessage.claimed_by.is_(None) if old.claimed_by is None
                    else OutboxMessage.claimed_by == old.claimed_by,
                    or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
        self._claims.token = token
        return token

    @property
    def _token(self) -> str:
        return str(getattr(self._claims, "token", "") or self.worker)

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
            key, attempts, created_at, in_doubt = row.idempotency_key, row.attempts, row.created_at, row.in_doubt
            doubt_since = row.doubt_since
            retrying_since = _retried_at(payload) or created_at
            # a long batch may reach a row after its time: judge by the clock, not the batch's start
            expired = row.expires_at is not None and max(now, self.clock.now()) >= row.expires_at
            parent, parent_due = self._parent(session, payload, self.clock.now())
            stale = kind == "update" and self._newer_update_sent(session, row)
        if parent is False and parent_due is None:  # the parent is being sent right now
            parent, parent_due = self._wait_for_parent(payload)
        if stale or expired:  # a later version is showing (it would undo it), or it no longer matters
            reason = "a newer version was sent" if stale else "it stopped mattering before it could be sent"
            self._finish(row_id, "superseded", now, None, reason, attempts)
            return "superseded"
        if parent is MISSING:  # nothing was ever queued under that key
            if now - created_at > PARENT_WAIT:
                self._finish(row_id, "failed", now, None, "the message it belongs to was never sent", attempts)
                return "failed"
            return self._release(row_id, now + dt.timedelta(seconds=5), "waiting for the parent message", attempts,
                                 in_doubt, doubt_since)
        if parent is False:  # the parent is on its way (or being retried): wait for as long as it is
            when = max(now, parent_due or now) + dt.timedelta(seconds=5)
            return self._release(row_id, when, "waiting for the parent message", attempts, in_doubt, doubt_since)
        doubt = in_doubt and kind in LOOKED_UP_KINDS
        started = self.clock.now()
        try:
            if doubt:
                found = self._look_up(kind, target, key, payload, parent, doubt_since or created_at,
                                      doubt_since is not None)
                if found is not None:  # an earlier attempt landed after all
                    self._finish(row_id, "sent", now, found, None, attempts)
                    return "sent"
                doubt = False
            self.pacer.wait()
            started = self.clock.now()
            posted = self._send(kind, target, key, payload, image, parent)
        except Exception as error:  # a broken row must fail on its own, not stop the batch
            return self._failed_attempt(row_id, kind, error, now, retrying_since, attempts + 1,
                                        doubt_since if doubt else None, started)
        self._finish(row_id, "sent", now, posted, None, attempts + 1)
        return "sent"

    def _look_up(self, kind: str, target: str, key: str, payload: dict[str, Any], parent: Posted | None | bool,
                 since: dt.datetime, windowed: bool) -> Posted | None:
        """Whether the message already landed: looked for around the attempt in doubt (a
        send lands within its claim), in the thread and, since the attempt may have gone
        out before its parent was known, beside it. A conversation the bot may not read (a
        missing scope, not a member) cannot be checked: then it is sent again, since a
        second copy is better than none."""
        where, thread_ts = self._where(kind, target, payload, parent)
        until = since + dt.timedelta(seconds=CLAIM_SECONDS) + LOOKUP_MARGIN if windowed else None
        try:
            found = self.messenger.find_sent(where, key, thread_ts, since - LOOKUP_MARGIN, until)
            if found is None and thread_ts:
                found = self.messenger.find_sent(target if kind == "post" else where, key, None,
                                                 since - LOOKUP_MARGIN, until)
            return found
        except DeliveryError as error:
            if not error.permanent:
                raise
            log.warning("outbox %s: cannot look in %s for an earlier copy (%s); sending again", key, where, error)
            return None

    def _failed_attempt(self, row_id: int, kind: str, error: Exception, now: dt.datetime,
                        retrying_since: dt.datetime, attempts: int, unsettled_since: dt.datetime | None,
                        started: dt.datetime) -> str:
        """Fail the row for good, or put it back to retry with capped backoff; it stays in
        doubt if this attempt may have landed (an error we cannot read counts as that) or an
        earlier doubt could not be settled."""
        expected = isinstance(error, DeliveryError)
        if not expected:
            log.exception("outbox %s: unexpected error", row_id)
        reason = f"{type(error).__name__}: {error}"
        if expected and error.permanent:
            self._finish(row_id, "failed", now, None, reason, attempts)
            log.error("outbox %s failed for good: %s", row_id, error)
            return "failed"
        if now - retrying_since >= self.horizon or (not expected and attempts >= MAX_UNEXPECTED_ATTEMPTS):
            self._finish(row_id, "failed", now, None, f"gave up after {attempts} attempts: {reason}", attempts)
            log.error("outbox %s: gave up after %s attempts: %s", row_id, attempts, error)
            return "failed"
        retry_after = error.retry_after if expected else None
        delay = retry_after if retry_after is not None else min(2 ** attempts, MAX_BACKOFF_SECONDS)
        landed_maybe = kind in LOOKED_UP_KINDS and (not expected or error.in_doubt)
        if landed_maybe and kind == "image":
            delay = max(delay, IMAGE_LOOKUP_DELAY_SECONDS)
        doubt_since = unsettled_since or (started if landed_maybe else None)
        return self._release(row_id, now + dt.timedelta(seconds=delay), str(error), attempts,
                             unsettled_since is not None or landed_maybe, doubt_since)

    @staticmethod
    def _newer_update_sent(session: Session, row: OutboxMessage) -> bool:
        parent = row.payload.get("update_of")
        newer = session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.kind == "update", OutboxMessage.id > row.id, OutboxMessage.status == "sent",
            OutboxMessage.target == row.target, _under(f"{parent}:v")).limit(1))
        return newer is not None

    @staticmethod
    def _parent(session: Session, payload: dict[str, Any], now: dt.datetime
                ) -> tuple[Posted | None | bool | str, dt.datetime | None]:
        """Where the parent of a thread reply or an update landed; False while it is on its
        way (with when it is next tried, or None while another deliverer is sending it),
        MISSING when nothing was queued under its key, None when it never will be."""
        key = payload.get("thread_of") or payload.get("update_of")
        if not key:
            return None, None
        parent = session.execute(select(OutboxMessage.status, OutboxMessage.result_ts, OutboxMessage.result_channel,
                                        OutboxMessage.target, OutboxMessage.next_attempt_at,
                                        OutboxMessage.claimed_until)
                                 .where(OutboxMessage.idempotency_key == key)).first()
        if parent is None:
            return MISSING, None
        if parent.status in ("failed", "superseded"):
            return None, None
        if parent.status != "sent" or not parent.result_ts:
            in_flight = parent.claimed_until is not None and parent.claimed_until > now
            return False, None if in_flight else parent.next_attempt_at
        return Posted(channel=parent.result_channel or parent.target, ts=parent.result_ts), None

    def _wait_for_parent(self, payload: dict[str, Any]) -> tuple[Posted | None | bool | str, dt.datetime | None]:
        """A reply whose parent another deliverer is sending at this moment (two requests
        delivering at once) waits a little for it, rather than for the delivery job: where
        no job runs soon, the reply would otherwise come seconds late."""
        for _poll in range(int(PARENT_IN_FLIGHT_WAIT_SECONDS / PARENT_POLL_SECONDS)):
            self.sleep(PARENT_POLL_SECONDS)
            with self.factory() as session:
                parent, due = self._parent(session, payload, self.clock.now())
            if parent is not False or due is not None:
                return parent, due
        return False, self.clock.now()

    @staticmethod
    def _where(kind: str, target: str, payload: dict[str, Any], parent: Posted | None | bool) -> tuple[str, str | None]:
        """The conversation and thread a post, DM or image goes to."""
        thread_ts = parent.ts if isinstance(parent, Posted) and "thread_of" in payload else None
        if isinstance(parent, Posted) and thread_ts and kind in ("dm", "image"):
            return parent.channel, thread_ts
        return target, thread_ts

    def _send(self, kind: str, target: str, key: str, payload: dict[str, Any], image: bytes | None,
              parent: Posted | None | bool) -> Posted:
        thread_ts = parent.ts if isinstance(parent, Posted) and "thread_of" in payload else None
        if kind == "home":
            home: Home = home_from_dict(payload["home"])
            return self.messenger.publish_home(target, home)
        if kind == "image":
            if image is None:
                raise DeliveryError("an image message without an image", permanent=True)
            channel = parent.channel if isinstance(parent, Posted) else target
            return self.messenger.upload_image(channel, image, payload.get("file_name") or "chart.png",
                                               payload.get("image_title", ""), thread_ts, key=key)
        message = message_from_dict(payload["message"])
        if kind == "post":
            return self.messenger.post(target, message, thread_ts, key=key)
        if kind == "dm":
            if isinstance(parent, Posted) and thread_ts:
                return self.messenger.post(parent.channel, message, thread_ts, key=key)
            return self.messenger.direct_message(target, message, key=key)
        if kind == "ephemeral":
            return self.messenger.post_ephemeral(target, payload["user"], message)
        if kind == "update":
            if not isinstance(parent, Posted):
                raise DeliveryError("the message to update was never sent", permanent=True)
            return self.messenger.update(parent.channel, parent.ts, message, key=str(payload.get("update_of") or ""))
        raise DeliveryError(f"unknown kind {kind}", permanent=True)

    def _release(self, row_id: int, when: dt.datetime, error: str, attempts: int, in_doubt: bool = False,
                 doubt_since: dt.datetime | None = None) -> str:
        """Put the row back for `when`, in doubt (since when) or not."""
        with transaction(self.factory) as session:
            session.execute(update(OutboxMessage).where(
                and_(OutboxMessage.id == row_id, OutboxMessage.claimed_by == self._token)).values(
                claimed_by=None, claimed_until=None, next_attempt_at=when, last_error=error, attempts=attempts,
                in_doubt=in_doubt, doubt_since=doubt_since if in_doubt else None))
        return "deferred"

    def _finish(self, row_id: int, status: str, now: dt.datetime, posted: Posted | None, error: str | None,
                attempts: int = 0) -> None:
        with transaction(self.factory) as session:
            result = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.claimed_by == self._token)
                .values(status=status, sent_at=now if posted else None, claimed_until=None, last_error=error,
                        next_attempt_at=now,  # for a row that is done: when it was last tried
                        attempts=attempts, result_channel=posted.channel if posted else None,
                        result_ts=posted.ts if posted else None)
            )
            if result.rowcount != 1:
                log.warning("outbox %s: claim lost before it was marked %s", row_id, status)
                if posted is not None:  # it went out all the same: whoever holds it now must look first
                    began = self.clock.now() - dt.timedelta(seconds=CLAIM_SECONDS)
                    session.execute(update(OutboxMessage).where(
                        OutboxMessage.id == row_id, OutboxMessage.status == "pending",
                        OutboxMessage.in_doubt.is_(False)).values(in_doubt=True, doubt_since=began))


def pending_count(session: Session) -> int:
    return session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    ) or 0


# --- failed messages: shown to the quality engineers, retried on request ---------------------------------


@dataclass(frozen=True)
class FailedMessage:
    id: int
    key: str
    kind: str
    target: str
    text: str
    error: str
    attempts: int
    created_at: dt.datetime
    failed_at: dt.datetime

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


def _retried_at(payload: dict[str, Any]) -> dt.datetime | None:
    value = payload.get("retried_at")
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


def failed(session: Session, limit: int = 100) -> list[FailedMessage]:
    """Messages that failed for good, the latest first."""
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")
                           .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc()).limit(limit))
    return [FailedMessage(row.id, row.idempotency_key, row.kind, row.target,
                          str((row.payload.get("message") or {}).get("text") or row.payload.get("image_title") or ""),
                          row.last_error or "", row.attempts, row.created_at, row.next_attempt_at) for row in rows]


def failed_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.status == "failed")) or 0


def retry(session: Session, row_id: int, now: dt.datetime) -> bool:
    """Send a failed message again (the cause mended: the bot invited, the person back).
    It gets a fresh retry horizon and is looked up first, in case it landed after all.
    False if there is no such failed message (already retried, never failed, or an App Home
    or ephemeral answer, which days later would only mislead)."""
    row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == "failed",
                                                     OutboxMessage.kind.in_(RETRYABLE_KINDS)).with_for_update())
    if row is None:
        return False
    row.payload = {**row.payload, "retried_at": now.isoformat()}
    row.status, row.next_attempt_at, row.claimed_by, row.claimed_until = "pending", now, None, None
    row.in_doubt, row.doubt_since, row.expires_at, row.attempts = True, None, None, 0
    return True
