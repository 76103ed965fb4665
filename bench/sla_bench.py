"""SLA scan benchmark: complaint deadlines over a large ledger.

    python bench/sla_bench.py [--complaints 100000] [--open 5000] [--database-url URL] [--runs 7]

Builds a ledger (closed complaints with met deadlines, and open ones spread over the last
days so that some warnings and breaches are due), then times the scan: the first run, which
queues warnings, and the runs after it, which must queue nothing (nothing is sent twice).
Prints median and p95, beside one raw SQL count of the open deadlines (the ratio), and
writes JSON under results/. Not a test: it asserts nothing.
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

from bot.complaints.scan import scan  # noqa: E402
from bot.core.defaults import seed_defaults  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402
from storage.models import Complaint, ComplaintDeadline, Customer, OutboxMessage, Person, PersonRole  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.UTC)
HOURS = {"register": 2, "first_response": 24, "investigation": 48, "eight_d": 96, "close": 72}


def build(factory, complaints: int, open_count: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(5)
    with transaction(factory) as session:
        seed_defaults(session)
        session.add(Person(slack_user_id="U0QE00001", name="王静", department="质量部", locale="zh-CN", active=True,
                           created_at=NOW, updated_at=NOW, roles=[PersonRole(role_key="quality_engineer")]))
        session.add(Person(slack_user_id="U0DH00001", name="马俊", department="质量部", locale="zh-CN", active=True,
                           created_at=NOW, updated_at=NOW, roles=[PersonRole(role_key="department_head")]))
        session.flush()
        owner = session.scalar(select(Person.id).where(Person.slack_user_id == "U0QE00001"))
        session.execute(insert(Customer), [{"code": f"C{i:04d}", "name_zh": f"客户{i}", "name_en": f"Customer {i}",
                                            "segment": "", "owner_id": owner, "active": True, "created_at": NOW,
                                            "updated_at": NOW} for i in range(200)])
        customers = list(session.scalars(select(Customer.id)))
        chunk = 5000
        for start in range(0, complaints, chunk):
            rows = []
            for index in range(start, min(complaints, start + chunk)):
                is_open = index >= complaints - open_count
                received = NOW - (dt.timedelta(hours=rng.uniform(0, 120)) if is_open
                                  else dt.timedelta(days=rng.uniform(10, 720)))
                rows.append({"number": f"KS-B-{index:06d}", "customer_id": rng.choice(customers),
                             "symptom": "异响", "severity": "general", "received_at": received,
                             "registered_at": received, "status": "acknowledged" if is_open else "closed",
                             "owner_id": owner, "source": "bench", "updated_at": NOW,
                             "closed_at": None if is_open else received + dt.timedelta(days=2)})
            session.execute(insert(Complaint), rows)
        ids = session.execute(select(Complaint.id, Complaint.received_at, Complaint.status)).all()
        batch = []
        for complaint_id, received, status in ids:
            for milestone, hours in HOURS.items():
                due = received + dt.timedelta(hours=hours)
                closed = status == "closed"
                batch.append({"complaint_id": complaint_id, "milestone": milestone, "due_at": due,
                              "warn_at": received + dt.timedelta(hours=hours * 0.75),
                              "state": "met" if closed or milestone == "register" else "open",
                              "met_at": due if closed else None, "paused_seconds": 0,
                              "warned_at": due if closed else None})
            if len(batch) >= 20000:
                session.execute(insert(ComplaintDeadline), batch)
                batch = []
        if batch:
            session.execute(insert(ComplaintDeadline), batch)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='csatbot-bench-')}/sla.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    build(factory, args.complaints, args.open)
    setup = time.perf_counter() - started
    first_started = time.perf_counter()
    first_queued = 0
    backlog_runs: list[float] = []
    while True:  # the backlog: each run of the job takes at most one batch of due deadlines
        begin = time.perf_counter()
        with transaction(factory) as session:
            report = scan(session, NOW, TZ, "zh-CN", "C0QUALITY")
        backlog_runs.append(time.perf_counter() - begin)
        first_queued += report.queued
        if report.warned + report.breached == 0:
            break
    first = time.perf_counter() - first_started
    idle, again = [], 0
    for _ in range(args.runs):
        begin = time.perf_counter()
        with transaction(factory) as session:
            again += scan(session, NOW, TZ, "zh-CN", "C0QUALITY").queued
        idle.append(time.perf_counter() - begin)
    raw = []
    for _ in range(args.runs):
        begin = time.perf_counter()
        with engine.connect() as connection:
            connection.execute(text("SELECT count(*) FROM complaint_deadlines WHERE state = 'open'")).scalar()
        raw.append(time.perf_counter() - begin)
    with factory() as session:
        keys = session.scalar(select(func.count()).select_from(OutboxMessage))
        distinct = session.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key))))
    result = {
        "database": engine.dialect.name, "complaints": args.complaints, "open": args.open,
        "setup_seconds": round(setup, 1), "backlog_seconds": round(first, 3), "backlog_queued": first_queued,
        "backlog_runs": len(backlog_runs), "backlog_slowest_run_ms": round(max(backlog_runs) * 1000, 1),
        "later_scans": summary(idle), "later_scans_queued": again, "raw_sql_open_count": summary(raw),
        "ratio_later_scan_to_raw_sql": round(statistics.median(idle) / max(statistics.median(raw), 1e-6), 1),
        "outbox_rows": keys, "distinct_keys": distinct, "nothing_twice": keys == distinct and again == 0,
    }
    write_result("sla", engine.dialect.name, result)
    engine.dispose()


if __name__ == "__main__":
    main()
