"""Data-call fan-out benchmark: the monthly call to thousands of people through the Slack
Web API emulator limited to N messages per second (answering 429 past it).

    python bench/datacall_bench.py [--people 5000] [--limit 100] [--pace 97] [--database-url URL]

It creates the people (each owing a figure), runs the call as of its opening day, and
delivers the outbox until nothing is pending. It reports every message delivered exactly
once (or not), how many 429s were answered, and the total time beside the rate-limit floor
(people / limit seconds): the ratio is the figure. Not a test: it prints, and writes JSON
under results/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_result  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from bot.core.clock import FixedClock  # noqa: E402
from bot.core.defaults import seed_defaults  # noqa: E402
from bot.core.outbox import pending_count  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from handlers.bootstrap import bootstrap  # noqa: E402
from handlers.testing.slack_emulator import SlackEmulator  # noqa: E402
from scheduled.jobs import data_call  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402
from storage.models import Person, PersonIdentity, PersonRole  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
OPENING = dt.datetime(2026, 10, 8, 9, 30, tzinfo=TZ)  # September 2026's figures open after National Day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--limit", type=float, default=100.0, help="the emulator's chat.postMessage limit per second")
    parser.add_argument("--pace", type=float, default=97.0, help="CSATBOT_MESSAGES_PER_SECOND for the bot")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="csatbot-bench-"))
    url = args.database_url or f"sqlite:///{folder}/datacall.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    emulator = SlackEmulator().start()
    with transaction(factory) as session:
        seed_defaults(session)
        now = dt.datetime.now(dt.UTC)
        session.execute(insert(Person), [
            {"name": f"IPQC {index}", "department": "质量部",
             "locale": "zh-CN" if index % 3 else "en", "email": None, "active": True, "created_at": now,
             "updated_at": now} for index in range(args.people)])
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        session.execute(insert(PersonIdentity), [{"person_id": i, "messenger": "slack", "user_id": f"U{index:08d}"}
                                                 for index, i in enumerate(ids)])
        session.execute(insert(PersonRole), [{"person_id": i, "role_key": "ipqc_engineer"} for i in ids])
    for index in range(args.people):
        emulator.workspace.add_user(f"U{index:08d}", f"IPQC {index}")
    emulator.rate_limit("chat.postMessage", args.limit)
    settings = Settings(database_url=url, slack_bot_token="xoxb-bench", slack_signing_secret="0" * 32,
                        slack_api_url=emulator.api_url, quality_channel="C0QUALITY",
                        messages_per_second=str(args.pace))
    clock = FixedClock(OPENING)
    ctx = bootstrap(settings, clock=clock)
    started = time.perf_counter()
    report = data_call(ctx, clock.now())
    queued_seconds = time.perf_counter() - started
    rounds = 0
    while True:
        rounds += 1
        ctx.deliverer.deliver_due(clock.now())
        with factory() as session:
            if pending_count(session) == 0:
                break
        clock.advance(dt.timedelta(seconds=2))  # rows deferred by a long Retry-After come due
    total = time.perf_counter() - started
    sent = Counter(c.args["channel"] for c in emulator.calls_to("chat.postMessage"))
    rejected = len([c for c in emulator.calls if c.method == "chat.postMessage" and c.status == 429])
    floor = args.people / args.limit
    result = {
        "database": engine.dialect.name, "people": args.people, "limit_per_second": args.limit,
        "pace_per_second": args.pace, "queued": report.queued, "queue_seconds": round(queued_seconds, 2),
        "delivered_messages": sum(sent.values()), "distinct_recipients": len(sent),
        "exactly_once": len(sent) == args.people and set(sent.values()) == {1},
        "http_429_answered": rejected, "delivery_rounds": rounds,
        "total_seconds": round(total, 2), "rate_limit_floor_seconds": round(floor, 2),
        "ratio_to_floor": round(total / floor, 3),
    }
    write_result("datacall", engine.dialect.name, result)
    emulator.stop()
    ctx.engine.dispose()
    engine.dispose()


if __name__ == "__main__":
    main()
