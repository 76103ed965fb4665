"""Stored monthly scores: what the overview, the trends and the comparisons read, instead of
scoring every customer's every month again for each question.

A stored score is used while it is still what a fresh computation would give: computed
from the current versions of its customer's inputs and of the shared ones (the versions
are raised in the transaction of every change, see storage/score_inputs.py), with the rules
in force for its month, and before the moment the passing of time alone changes it (the
month closing, a complaint deadline of the month falling due). Anything else is computed
again with the score book, and stored. The `refresh_scores` job keeps the store warm, so the
first question after a change rarely pays for it."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.periods import add_months, month_end, month_start
from bot.datacall.obligations import close_date
from bot.people.customers import all_customers
from bot.scorecard.book import ScoreBook
from storage.db import as_utc
from storage.models import Complaint, ComplaintDeadline, ScoreInputsVersion, StoredScore
from storage.score_inputs import SHARED

FEW_CUSTOMERS = 200  # above this many, whole tables are read rather than an IN list


class Headline(NamedTuple):
    """What a month's score says at a glance (the card of one month computes the rest)."""

    customer_id: int
    month: str
    total: float
    grade: str
    provisional: bool
    kpi_missing: tuple[str, ...]
    rules_version: int


def _shared_version(book: ScoreBook) -> int:
    return int(book.session.scalar(select(ScoreInputsVersion.version).where(
        ScoreInputsVersion.customer_id == SHARED)) or 0)


def _current(book: ScoreBook, customer_ids: list[int], months: list[str], shared: int
             ) -> dict[tuple[int, str], Row[Any]]:
    """The stored rows still current as far as the database can tell (the inputs' versions,
    time); plain rows, not ORM objects: tens of thousands are read for an overview."""
    table, versions = StoredScore.__table__, ScoreInputsVersion.__table__
    query = (select(table.c.customer_id, table.c.month, table.c.evaluated, table.c.total, table.c.grade,
                    table.c.provisional, table.c.kpi_missing, table.c.rules_version)
             .outerjoin(versions, versions.c.customer_id == table.c.customer_id)
             .where(table.c.month.in_(months), table.c.shared_inputs == shared,
                    table.c.customer_inputs == func.coalesce(versions.c.version, 0),
                    or_(table.c.valid_until.is_(None), table.c.valid_until > book.now)))
    if len(customer_ids) <= FEW_CUSTOMERS:
        query = query.where(table.c.customer_id.in_(customer_ids))
    return {(row.customer_id, row.month): row for row in book.session.execute(query)}


def _versions(book: ScoreBook, customer_ids: list[int]) -> dict[int, int]:
    query = select(ScoreInputsVersion.customer_id, ScoreInputsVersion.version)
    if len(customer_ids) <= FEW_CUSTOMERS:
        query = query.where(ScoreInputsVersion.customer_id.in_([*customer_ids, SHARED]))
    return {int(cid): int(version) for cid, version in book.session.execute(query)}


def _changes_with_time(book: ScoreBook, customer_ids: list[int], months: list[str]
                       ) -> dict[tuple[int, str], dt.datetime]:
    """For months not closed yet: when a score changes with no input changing (the month
    closes; an open complaint deadline of the month falls due)."""
    today = book.now.astimezone(book.tz).date()
    calendar = WorkingCalendar.load(book.session)
    settings = book.call_settings
    closing: dict[str, dt.datetime] = {}
    for month in months:
        closes = close_date(calendar, month, settings)
        if today < closes:
            closing[month] = dt.datetime.combine(closes, dt.time(0), book.tz).astimezone(dt.UTC)
    changes: dict[tuple[int, str], dt.datetime] = {(cid, m): at for m, at in closing.items() for cid in customer_ids}
    if closing:
        start = dt.datetime.combine(month_start(min(closing)), dt.time(0), book.tz)
        end = dt.datetime.combine(month_end(max(closing)) + dt.timedelta(days=1), dt.time(0), book.tz)
        query = (select(Complaint.customer_id, ComplaintDeadline.due_at)
                 .join(Complaint, Complaint.id == ComplaintDeadline.complaint_id)
                 .where(ComplaintDeadline.state == "open", ComplaintDeadline.due_at > book.now,
                        ComplaintDeadline.due_at >= start, ComplaintDeadline.due_at < end))
        if len(customer_ids) <= FEW_CUSTOMERS:
            query = query.where(Complaint.customer_id.in_(customer_ids))
        for customer_id, due_at in book.session.execute(query):
            due = as_utc(due_at)
            assert due is not None
            local = due.astimezone(book.tz)
            key = (customer_id, f"{local.year:04d}-{local.month:02d}")
            if key in changes:
                changes[key] = min(changes[key], due)
    return changes


class _Remembered(NamedTuple):
    inputs: tuple[int, int]
    until: dt.datetime | None
    value: Any


_remembered: OrderedDict[tuple[Any, ...], _Remembered] = OrderedDict()
_remembering: dict[tuple[Any, ...], threading.Lock] = {}
_guard = threading.Lock()
REMEMBERED = 8  # answers about all customers over a span, per process

T = TypeVar("T")


def _inputs_fingerprint(book: ScoreBook) -> tuple[int, int]:
    """Changes anywhere since: every change raises some version, so the sum only grows."""
    count, total = book.session.execute(
        select(func.count(), func.coalesce(func.sum(ScoreInputsVersion.version), 0))).one()
    return int(count), int(total)


def _next_change_with_time(book: ScoreBook, months: list[str]) -> dt.datetime | None:
    table = StoredScore.__table__
    return as_utc(book.session.scalar(select(func.min(table.c.valid_until)).where(
        table.c.month.in_(months), table.c.valid_until > book.now)))


def while_current(book: ScoreBook, key: tuple[Any, ...], months: list[str], compute: Callable[[], T]) -> T:
    """What `compute` gives from all customers' scores of `months` (and whatever else the
    score inputs hold: customers, rules, figures), remembered by the process until any input
    changes or time changes one of those scores, and computed once when several ask at the
    same moment (the others wait for it). The value is shared: copy it before changing it."""
    inputs = _inputs_fingerprint(book)
    with _guard:
        known = _remembered.get(key)
        lock = _remembering.setdefault(key, threading.Lock())
    if known is not None and known.inputs == inputs and (known.until is None or book.now < known.until):
        return cast(T, known.value)
    with lock:
        with _guard:
            known = _remembered.get(key)
        if known is not None and known.inputs == inputs and (known.until is None or book.now < known.until):
            return cast(T, known.value)
        value = compute()
        remembered = _Remembered(inputs, _next_change_with_time(book, months), value)
        with _guard:
            _remembered[key] = remembered
            _remembered.move_to_end(key)
            while len(_remembered) > REMEMBERED:
                _remembered.popitem(last=False)
        return value


def monthly_headlines(book: ScoreBook, customers: dict[int, str], months: list[str]
                      ) -> dict[tuple[int, str], Headline]:
    """The scores of the evaluated months (an idle month has none), stored ones where they
    are still current, the others computed and stored; many customers at once (an overview)
    are remembered while current."""
    if len(customers) <= FEW_CUSTOMERS:
        return _headlines(book, customers, months)
    key = ("headlines", tuple(months), len(customers), hash(tuple(customers)))
    return dict(while_current(book, key, months, lambda: _headlines(book, customers, months)))


def _headlines(book: ScoreBook, customers: dict[int, str], months: list[str]) -> dict[tuple[int, str], Headline]:
    ids = list(customers)
    shared = _shared_version(book)  # read before the inputs: a change meanwhile only makes a row stale
    current = _current(book, ids, months, shared)
    rules = {month: book.rules_for(month).version for month in months}
    headlines: dict[tuple[int, str], Headline] = {}
    for key, row in current.items():
        if row.rules_version == rules[row.month] and row.evaluated:
            headlines[key] = Headline(row.customer_id, row.month, row.total, row.grade, row.provisional,
                                      tuple(row.kpi_missing.split(",")) if row.kpi_missing else (), row.rules_version)
    stale: dict[int, set[str]] = defaultdict(set)
    for cid in ids:
        for month in months:
            row = current.get((cid, month))
            if row is None or row.rules_version != rules[month]:
                stale[cid].add(month)
    if not stale:
        return headlines
    versions = _versions(book, list(stale))
    wanted = sorted({m for ms in stale.values() for m in ms})
    fresh = book.monthly({cid: customers[cid] for cid in stale}, wanted)
    changes = _changes_with_time(book, list(stale), wanted)
    rows = []
    for cid in sorted(stale):
        for month in sorted(stale[cid]):
            score = fresh.get((cid, month))
            if score is not None:
                headlines[(cid, month)] = Headline(cid, month, score.total, score.grade, score.provisional,
                                                   tuple(score.kpi_missing), score.rule_set_version)
            rows.append({"customer_id": cid, "month": month, "evaluated": score is not None,
                         "total": score.total if score else None, "grade": score.grade if score else None,
                         "provisional": bool(score and score.provisional),
                         "kpi_missing": ",".join(score.kpi_missing) if score else "", "rules_version": rules[month],
                         "customer_inputs": versions.get(cid, 0), "shared_inputs": shared,
                         "valid_until": changes.get((cid, month)), "computed_at": book.now})
    _store(book.session.connection(), rows)
    return headlines


def _store(connection: Connection, rows: list[dict[str, object]]) -> None:
    """Insert or replace, in primary-key order (two writers never wait for each other in a circle)."""
    table = StoredScore.__table__
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    columns = [c.name for c in table.columns if c.name not in ("customer_id", "month")]
    for start in range(0, len(rows), 500):
        statement = insert(table).values(rows[start:start + 500])
        connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.customer_id, table.c.month],
            set_={name: statement.excluded[name] for name in columns}))


def refresh(session: Session, now: dt.datetime, tz: ZoneInfo, months: int = 24) -> int:
    """Bring every customer's stored scores of the last `months` months (to last month) up
    to date; how many months are scored."""
    today = now.astimezone(tz).date()
    last = add_months(f"{today.year:04d}-{today.month:02d}", -1)
    span = [add_months(last, -i) for i in range(months - 1, -1, -1)]
    return len(monthly_headlines(ScoreBook(session, now, tz), all_customers(session), span))
