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
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
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


@dataclass(frozen=True)
class Headline:
    """What a month's score says at a glance (the card of one month computes the rest)."""

    customer_id: int
    month: str
    total: float
    grade: str
    provisional: bool
    kpi_missing: tuple[str, ...]
    rules_version: int


def _versions(book: ScoreBook, customer_ids: list[int]) -> dict[int, int]:
    query = select(ScoreInputsVersion.customer_id, ScoreInputsVersion.version)
    if len(customer_ids) <= FEW_CUSTOMERS:
        query = query.where(ScoreInputsVersion.customer_id.in_([*customer_ids, SHARED]))
    return {int(cid): int(version) for cid, version in book.session.execute(query)}


def _stored(book: ScoreBook, customer_ids: list[int], months: list[str]) -> dict[tuple[int, str], StoredScore]:
    query = select(StoredScore).where(StoredScore.month.in_(months))
    if len(customer_ids) <= FEW_CUSTOMERS:
        query = query.where(StoredScore.customer_id.in_(customer_ids))
    return {(row.customer_id, row.month): row for row in book.session.scalars(query)}


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


def monthly_headlines(book: ScoreBook, customers: dict[int, str], months: list[str]
                      ) -> dict[tuple[int, str], Headline]:
    """The scores of the evaluated months (an idle month has none), stored ones where they
    are still current, the others computed and stored."""
    ids = list(customers)
    versions = _versions(book, ids)  # read before the inputs: a change meanwhile only makes a row stale
    shared = versions.get(SHARED, 0)
    stored = _stored(book, ids, months)
    rules = {month: book.rules_for(month).version for month in months}
    now = book.now
    headlines: dict[tuple[int, str], Headline] = {}
    stale: dict[int, set[str]] = defaultdict(set)
    for cid in ids:
        for month in months:
            row = stored.get((cid, month))
            valid_until = as_utc(row.valid_until) if row is not None else None
            if (row is None or row.customer_inputs != versions.get(cid, 0) or row.shared_inputs != shared
                    or row.rules_version != rules[month] or (valid_until is not None and valid_until <= now)):
                stale[cid].add(month)
            elif row.evaluated:
                assert row.total is not None and row.grade is not None
                headlines[(cid, month)] = Headline(cid, month, row.total, row.grade, row.provisional,
                                                   tuple(row.kpi_missing or ()), row.rules_version)
    if not stale:
        return headlines
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
                         "kpi_missing": list(score.kpi_missing) if score else [], "rules_version": rules[month],
                         "customer_inputs": versions.get(cid, 0), "shared_inputs": shared,
                         "valid_until": changes.get((cid, month)), "computed_at": now})
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
