"""Delivery under faults: messages lost and duplicated, and the pace after a 429 burst.

    python bench/delivery_bench.py [--messages 200] [--database-url URL]

Each scenario queues `--messages` direct messages to as many people, runs the real
deliverer against the Slack Web API emulator with the clock injected (a six-minute outage
takes milliseconds), and counts what people see: the messages in each DM. Scenarios: a
six-minute 503 outage; every first post stored by Slack but answered 500; a deliverer
killed right after a send, three times; a burst of 44 429s. Writes JSON under results/.
Not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import write_result  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.core import outbox  # noqa: E402
from bot.core.clock import FixedClock  # noqa: E402
from bot.core.context import AppContext  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.core.views import Message  # noqa: E402
from handlers.bootstrap import bootstrap  # noqa: E402
from handlers.testing.slack_emulator import SlackEmulator  # noqa: E402
from storage.db import upgrade_schema  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402

START = dt.datetime(2026, 11, 9, 1, 0, tzinfo=dt.UTC)


class Killed(BaseException):
    """kill -9: nothing after the send runs."""


def setup(database_url: str, messages: int) -> tuple[AppContext, SlackEmulator, FixedClock, list[str]]:
    clock = FixedClock(START)
    emulator = SlackEmulator(now=lambda: clock.now().timestamp()).start()
    users = [f"U0B{i:07d}" for i in range(messages)]
    for user in users:
        emulator.workspace.add_user(user, user)
    settings = Settings(database_url=database_url, slack_bot_token="xoxb-bench", slack_api_url=emulator.api_url,
                        messages_per_second="50")
    ctx = bootstrap(settings, clock=clock, sleep=lambda _s: None)
    upgrade_schema(ctx.engine)
    with ctx.session() as session:
        outbox.enqueue_many(session, [outbox.Queued(f"bench:{u}", "dm", u, Message(text=f"hello {u}"))
                                      for u in users], clock.now())
    return ctx, emulator, clock, users


def seen(emulator: SlackEmulator, users: list[str]) -> dict[str, int]:
    ws = emulator.workspace
    copies = Counter({u: len(ws.history(ws.dm_channel(u))) for u in users})
    return {"lost": sum(1 for u in users if copies[u] == 0),
            "duplicated": sum(copies[u] - 1 for u in users if copies[u] > 1)}


def drive(ctx: AppContext, clock: FixedClock, until: dt.timedelta, step: dt.timedelta) -> None:
    end = clock.now() + until
    while clock.now() <= end:
        ctx.deliverer.deliver_due(clock.now())
        clock.advance(step)


def outage(ctx: AppContext, emulator: SlackEmulator, clock: FixedClock, users: list[str]) -> dict[str, Any]:
    emulator.outage(503)
    drive(ctx, clock, dt.timedelta(minutes=6), dt.timedelta(seconds=15))
    emulator.outage(None)
    drive(ctx, clock, dt.timedelta(minutes=20), dt.timedelta(minutes=1))
    return seen(emulator, users)


def stored_but_5xx(ctx: AppContext, emulator: SlackEmulator, clock: FixedClock, users: list[str]) -> dict[str, Any]:
    emulator.fail_next("chat.postMessage", status=500, retry_after=None, times=len(users), after_storing=True)
    drive(ctx, clock, dt.timedelta(minutes=10), dt.timedelta(seconds=30))
    return seen(emulator, users)


def killed(ctx: AppContext, emulator: SlackEmulator, clock: FixedClock, users: list[str]) -> dict[str, Any]:
    finish = outbox.Deliverer._finish
    kills = 0
    for _kill in range(3):
        sends = {"n": 0}

        def die(self, row_id, status, *args, sends=sends, **kwargs):  # type: ignore[no-untyped-def]
            if status == "sent":
                sends["n"] += 1
                if sends["n"] == 3:
                    raise Killed
            return finish(self, row_id, status, *args, **kwargs)

        outbox.Deliverer._finish = die  # type: ignore[method-assign]
        try:
            ctx.deliverer.deliver_due(clock.now())
        except Killed:
            kills += 1
        finally:
            outbox.Deliverer._finish = finish  # type: ignore[method-assign]
    clock.advance(dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1))
    drive(ctx, clock, dt.timedelta(minutes=5), dt.timedelta(minutes=1))
    return {**seen(emulator, users), "kills": kills}


def burst_of_429s(ctx: AppContext, emulator: SlackEmulator, clock: FixedClock, users: list[str]) -> dict[str, Any]:
    emulator.fail_next("chat.postMessage", status=429, retry_after=0, times=44)
    drive(ctx, clock, dt.timedelta(minutes=5), dt.timedelta(seconds=2))
    configured = 1 / ctx.deliverer.pacer.base_interval
    return {**seen(emulator, users), "configured_per_second": configured,
            "pace_after_per_second": round(1 / ctx.deliverer.pacer.interval, 2)}


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "outage_6_min_503": outage, "stored_but_answered_500": stored_but_5xx, "killed_after_send_x3": killed,
    "burst_of_44_429s": burst_of_429s,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    result: dict[str, Any] = {"messages": args.messages}
    with tempfile.TemporaryDirectory() as folder:
        for index, (name, scenario) in enumerate(SCENARIOS.items()):
            url = args.database_url or f"sqlite:///{folder}/delivery-{index}.sqlite3"
            ctx, emulator, clock, users = setup(url, args.messages)
            started = time.perf_counter()
            outcome = scenario(ctx, emulator, clock, users)
            with ctx.session() as session:
                outcome["rows"] = dict(Counter(session.scalars(select(OutboxMessage.status))))
                if args.database_url:
                    session.query(OutboxMessage).delete()
            outcome["seconds"] = round(time.perf_counter() - started, 2)
            result[name] = outcome
            ctx.engine.dispose()
            emulator.stop()
    write_result("delivery", "postgresql" if args.database_url else "sqlite", result)


if __name__ == "__main__":
    main()
