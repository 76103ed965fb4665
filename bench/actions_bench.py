"""Corrective-action due-date scan benchmark: reminders and overdue messages over many actions.

    python bench/actions_bench.py [--actions 50000] [--open 5000] [--database-url URL] [--runs 7]

Builds actions (closed ones and open ones due from a month ago to a month ahead, owned by
people in a department with a head), then times the scan: the first run, which queues the
reminders and overdue messages due today, and the runs after it, which must queue nothing
(nothing is sent twice). Prints median and p95, beside one raw SQL count of the open actions
(the ratio), and writes JSON under results/. Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import summary, write_result  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from bot.actions.reminders import chase_actions  # noqa: E402
from bot.core.defaults import seed_defaults  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402
from storage.models import CorrectiveAction, OutboxMessage, Person, PersonRole  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in Shanghai
STATES = ("assigned", "analysed", "approved", "implemented")


def build(factory, actions: int, open_count: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    today = NOW.astimezone(TZ).date()
    with transaction(factory) as session:
        seed_defaults(session)
        owners = []
        for index in range(50):
            person = Person(slack_user_id=f"U0OW{index:05d}", name=f"负责人{index}", department=f"部门{index % 10}",
                            locale="zh-CN", active=True, created_at=NOW, updated_at=NOW,
                            roles=[PersonRole(role_key="quality_engineer")])
            session.add(person)
            owners.append(person)
        for index in range(10):
            session.add(Person(slack_user_id=f"U0DH{index:05d}", name=f"部长{index}", department=f"部门{index}",
                               locale="zh-CN", active=True, created_at=NOW, updated_at=NOW,
                               roles=[PersonRole(role_key="department_head")]))
        session.flush()
        ids = [p.id for p in owners]
        chunk = 5000
        for start in range(0, actions, chunk):
            rows = []
            for index in range(start, min(actions, start + chunk)):
                is_open = index >= actions - open_count
                due = today + dt.timedelta(days=rng.randint(-30, 30) if is_open else -rng.randint(30, 720))
                rows.append({"trigger_key": f"bench:{index}", "trigger_kind": "manual", "trigger_detail": {},
                             "title": f"整改 {index} / action {index}", "owner_id": rng.choice(ids),
                             "due_date": due, "status": rng.choice(STATES) if is_open else "closed",
                             "opened_at": NOW - dt.timedelta(days=60), "loops": 0, "management_review": False})
            session.execute(insert(CorrectiveAction), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--actions", type=int, default=50_000)
    parser.add_argument("--open", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='csatbot-bench-')}/actions.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    build(factory, args.actions, args.open)
    setup = time.perf_counter() - started
    begin = time.perf_counter()
    with transaction(factory) as session:
        first = chase_actions(session, NOW, TZ, "zh-CN", "C0QUALITY")
    first_seconds = time.perf_counter() - begin
    later, again = [], 0
    for _ in range(args.runs):
        begin = time.perf_counter()
        with transaction(factory) as session:
            again += chase_actions(session, NOW, TZ, "zh-CN", "C0QUALITY").queued
        later.append(time.perf_counter() - begin)
    raw = []
    for _ in range(args.runs):
        begin = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM corrective_actions WHERE status NOT IN "
                                    "('verified', 'closed')")).scalar()
        raw.append(time.perf_counter() - begin)
    with factory() as session:
        keys = session.scalar(select(func.count()).select_from(OutboxMessage))
        distinct = session.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key))))
    result = {
        "database": engine.dialect.name, "actions": args.actions, "open": args.open,
        "setup_seconds": round(setup, 1), "first_scan_ms": round(first_seconds * 1000, 1),
        "first_scan_queued": first.queued, "overdue": first.overdue, "later_scans": summary(later),
        "later_scans_queued": again, "raw_sql_open_count": summary(raw),
        "ratio_later_scan_to_raw_sql": round(statistics.median(later) / max(statistics.median(raw), 1e-6), 1),
        "ratio_first_scan_to_raw_sql": round(first_seconds / max(statistics.median(raw), 1e-6), 1),
        "outbox_rows": keys, "distinct_keys": distinct, "nothing_twice": keys == distinct and again == 0,
    }
    write_result("actions", engine.dialect.name, result)
    engine.dispose()


if __name__ == "__main__":
    main()
