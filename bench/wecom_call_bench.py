"""The monthly data call to thousands of people in WeCom only, through the WeCom emulator with
WeCom's documented limits (a member's 30 messages a minute and 1,000 an hour, dropped past
them; the app's account cap × 200 person-times a day) and a limit of N `message/send` a second
answered with 45009, as WeCom answers an app that floods it.

    python bench/wecom_call_bench.py [--people 5000] [--limit 100] [--pace 97] [--database-url URL]

It creates the people (each owing a figure, each with a WeCom userid and no Slack id), runs the
call as of its opening day, and delivers the outbox until nothing is pending. It reports every
message delivered exactly once (or not), none dropped by WeCom, how many 45009s were answered,
and the total time beside the rate-limit floor (people / limit seconds): the ratio is the
figure. Not a test: it prints, and writes JSON under results/.
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
from handlers.testing.wecom_emulator import WeComEmulator  # noqa: E402
from scheduled.jobs import data_call  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema  # noqa: E402
from storage.models import Person, PersonIdentity, PersonRole  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
OPENING = dt.datetime(2026, 10, 8, 9, 30, tzinfo=TZ)  # September 2026's figures open after National Day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--limit", type=float, default=100.0, help="the emulator's message/send limit per second")
    parser.add_argument("--pace", type=float, default=97.0, help="CSATBOT_MESSAGES_PER_SECOND for the bot")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="csatbot-bench-"))
    url = args.database_url or f"sqlite:///{folder}/wecom-call.sqlite3"
    engine = make_engine(url)
    upgrade_schema(engine)
    factory = make_session_factory(engine)
    clock = FixedClock(OPENING)
    wecom = WeComEmulator(now=lambda: clock.now().timestamp()).start()
    wecom.rate_limit("message/send", args.limit)
    wecom.daily_cap = args.people * 200  # an account cap as large as the company
    slack = SlackEmulator().start()  # nobody is in Slack: it must see no message
    with transaction(factory) as session:
        seed_defaults(session)
        now = dt.datetime.now(dt.UTC)
        session.execute(insert(Person), [
            {"name": f"IPQC {index}", "department": "质量部",
             "locale": "zh-CN" if index % 3 else "en", "email": None, "active": True, "created_at": now,
             "updated_at": now} for index in range(args.people)])
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        session.execute(insert(PersonIdentity), [{"person_id": i, "messenger": "wecom", "user_id": f"ipqc{index:05d}"}
                                                 for index, i in enumerate(ids)])
        session.execute(insert(PersonRole), [{"person_id": i, "role_key": "ipqc_engineer"} for i in ids])
    settings = Settings(database_url=url, slack_bot_token="xoxb-bench", slack_signing_secret="0" * 32,
                        slack_api_url=slack.api_url, quality_channel="C0QUALITY",
                        messages_per_second=str(args.pace), wecom_corp_id=wecom.corp_id, wecom_agent_id="1000002",
                        wecom_secret=wecom.secret, wecom_token="csatbot",
                        wecom_aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", wecom_api_url=wecom.api_url)
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
        clock.advance(dt.timedelta(seconds=2))  # rows deferred by a 45009 come due
    total = time.perf_counter() - started
    sent = [c for c in wecom.calls_to("message/send") if c.answer.get("errcode") == 0]
    per_member = Counter(str(c.body.get("touser")) for c in sent)
    rejected = len([c for c in wecom.calls_to("message/send") if c.answer.get("errcode") == 45009])
    floor = args.people / args.limit
    result = {
        "database": engine.dialect.name, "people": args.people, "limit_per_second": args.limit,
        "pace_per_second": args.pace, "queued": report.queued, "queue_seconds": round(queued_seconds, 2),
        "delivered_messages": len(sent), "distinct_recipients": len(per_member),
        "exactly_once": len(per_member) == args.people and set(per_member.values()) == {1},
        "dropped_by_wecom": len(wecom.dropped), "slack_calls": len(slack.calls),
        "errcode_45009_answered": rejected, "delivery_rounds": rounds,
        "total_seconds": round(total, 2), "rate_limit_floor_seconds": round(floor, 2),
        "ratio_to_floor": round(total / floor, 3),
    }
    write_result("wecom_call", engine.dialect.name, result)
    wecom.stop()
    slack.stop()
    ctx.engine.dispose()
    engine.dispose()


if __name__ == "__main__":
    main()
