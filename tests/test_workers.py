"""More than one worker: the database elects one scheduler among all worker processes of all
replicas, another takes over when it stops, and eight contenders ticking at once send every
message once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.settings import Settings
from handlers.bootstrap import bootstrap
from handlers.testing.slack_emulator import SlackEmulator
from scheduled.jobs import DELIVERY_JOB, DERIVE_JOBS, Job
from scheduled.scheduler import LEASE_SECONDS, Elected
from tests.conftest import at_once

NOTHING = Job("nothing", lambda _ctx, _now: None, 1)


def test_one_contender_leads_until_it_stops_renewing(ctx: AppContext, clock: FixedClock) -> None:
    first, second = Elected(ctx, "replica-a:1"), Elected(ctx, "replica-b:1")
    assert first.run(NOTHING) and not second.run(NOTHING)
    clock.advance(dt.timedelta(seconds=LEASE_SECONDS - 1))
    assert first.run(NOTHING) and not second.run(NOTHING)  # renewed at each tick
    clock.advance(dt.timedelta(seconds=LEASE_SECONDS + 1))  # the first stopped ticking (crashed, cut off)
    assert second.run(NOTHING) and not first.run(NOTHING)
    second.resign()  # a clean stop hands over at once
    assert first.run(NOTHING)


def test_two_replicas_of_four_workers_send_nothing_twice(settings: Settings, clock: FixedClock, scored: AppContext,
                                                         emulator: SlackEmulator) -> None:
    clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=clock.now().tzinfo))  # the monthly call and its reminders are due
    contenders = []
    for replica in ("a", "b"):
        for worker in range(4):
            context = bootstrap(settings, clock=clock, sleep=lambda _s: None)
            contenders.append(Elected(context, f"replica-{replica}:{worker}"))
    ran: Counter[str] = Counter()

    def tick(contender: Elected) -> None:
        for _round in range(3):
            for job in [*DERIVE_JOBS, DELIVERY_JOB]:
                if contender.run(job):
                    ran[contender.holder] += 1

    assert at_once(tick, contenders) == []
    assert len(ran) == 1  # one scheduler ran every job; the seven others ran none
    sent = [c for c in emulator.calls if c.method in ("chat.postMessage", "files.completeUploadExternal")]
    assert sent, "the call went out"
    keys = Counter((c.args.get("channel") or c.args.get("channel_id"), c.args.get("text")) for c in sent)
    assert max(keys.values()) == 1, keys.most_common(3)
    for contender in contenders:
        contender.ctx.engine.dispose()
