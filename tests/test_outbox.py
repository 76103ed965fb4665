"""Outbox delivery: once per key, across restarts and replicas, through 429s and 5xx."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.core import outbox
from bot.core.context import AppContext
from bot.core.views import Card, Message, Paragraph
from handlers.bootstrap import bootstrap
from handlers.testing.slack_emulator import SlackEmulator
from scheduled.jobs import run_due
from storage.models import OutboxMessage
from tests.conftest import at_once


def note(text: str) -> Message:
    return Message(text=text, cards=[Card(title="csatbot", parts=[Paragraph(text)])])


def test_enqueue_is_idempotent(ctx: AppContext) -> None:
    now = ctx.now()
    with ctx.session() as session:
        assert outbox.enqueue(session, "k:1", "post", "C0QUALITY", note("a"), now)
        assert not outbox.enqueue(session, "k:1", "post", "C0QUALITY", note("a again"), now)
    with ctx.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_delivered_once_across_a_restart(ctx: AppContext, settings, clock, emulator: SlackEmulator) -> None:  # type: ignore[no-untyped-def]
    with ctx.session() as session:
        outbox.enqueue(session, "k:restart", "post", "C0QUALITY", note("hello"), ctx.now())
    run_due(ctx, ctx.now())
    # a new process on the same database: enqueues the same key and delivers again
    restarted = bootstrap(settings, clock=clock, sleep=lambda _s: None)
    with restarted.session() as session:
        assert not outbox.enqueue(session, "k:restart", "post", "C0QUALITY", note("hello"), restarted.now())
    run_due(restarted, restarted.now() + dt.timedelta(minutes=5))
    assert len(emulator.calls_to("chat.postMessage")) == 1
    restarted.engine.dispose()


def test_two_replicas_send_each_message_once(settings, clock, emulator: SlackEmulator) -> None:  # type: ignore[no-untyped-def]
    first = bootstrap(settings, clock=clock, worker="replica-1", sleep=lambda _s: None)
    second = bootstrap(settings, clock=clock, worker="replica-2", sleep=lambda _s: None)
    now = first.now()
    for replica in (first, second):  # both derive the same work
        with replica.session() as session:
            for index in range(40):
                outbox.enqueue(session, f"k:replica:{index}", "post", "C0QUALITY", note(f"message {index}"), now)
    errors = at_once(lambda replica: replica.deliverer.deliver_due(now), (first, second))
    assert errors == []
    texts = [c.args["text"] for c in emulator.calls_to("chat.postMessage")]
    assert sorted(texts) == sorted(f"message {i}" for i in range(40))
    with first.session() as session:
        assert set(session.scalars(select(OutboxMessage.status))) == {"sent"}
    first.engine.dispose()
    second.engine.dispose()


def test_rate_limit_is_retried(ctx: AppContext, emulator: SlackEmulator, sleeps: list[float]) -> None:
    emulator.fail_next("chat.postMessage", status=429, retry_after=3, times=1)
    with ctx.session() as session:
        outbox.enqueue(session, "k:429", "post", "C0QUALITY", note("after a 429"), ctx.now())
    report = ctx.deliverer.deliver_due(ctx.now())
    assert report.sent == 1
    statuses = [c.status for c in emulator.calls if c.method == "chat.postMessage"]
    assert statuses == [429, 200]
    assert sleeps == [3.0]  # waited exactly Retry-After


def test_a_429_storm_waits_for_retry_after_in_the_outbox(ctx: AppContext, emulator: SlackEmulator) -> None:
    # more 429s than the client retries: the outbox keeps the row and honours Retry-After
    emulator.fail_next("chat.postMessage", status=429, retry_after=1, times=3)
    with ctx.session() as session:
        outbox.enqueue(session, "k:storm", "post", "C0QUALITY", note("storm"), ctx.now())
    first = ctx.deliverer.deliver_due(ctx.now())
    assert first.sent == 0 and first.deferred == 1
    with ctx.session() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "k:storm"))
        assert row is not None and row.status == "pending" and "rate limited" in (row.last_error or "")
    assert ctx.deliverer.deliver_due(ctx.now()).sent == 0  # not before Retry-After
    second = ctx.deliverer.deliver_due(ctx.now() + dt.timedelta(seconds=1))
    assert second.sent == 1
    assert len(emulator.calls_to("chat.postMessage")) == 1


def test_server_errors_back_off_then_deliver(ctx: AppContext, emulator: SlackEmulator) -> None:
    emulator.fail_next("chat.postMessage", status=500, retry_after=None, times=3)
    with ctx.session() as session:
        outbox.enqueue(session, "k:500", "post", "C0QUALITY", note("after 500s"), ctx.now())
    assert ctx.deliverer.deliver_due(ctx.now()).deferred == 1
    assert ctx.deliverer.deliver_due(ctx.now()).sent == 0  # backing off: not due yet
    # the client does not resend a post on a 5xx (Slack may have stored it); the outbox does,
    # each time after looking for it in the channel
    sent = [ctx.deliverer.deliver_due(ctx.now() + dt.timedelta(seconds=s)).sent for s in (2, 6, 14)]
    assert sent == [0, 0, 1]
    assert [c.status for c in emulator.calls if c.method == "chat.postMessage"] == [500, 500, 500, 200]
    assert len(emulator.calls_to("conversations.history")) == 3


def test_permanent_errors_fail_without_retrying(ctx: AppContext, emulator: SlackEmulator) -> None:
    with ctx.session() as session:
        outbox.enqueue(session, "k:nochannel", "post", "C0MISSING", note("nowhere"), ctx.now())
    assert ctx.deliverer.deliver_due(ctx.now()).failed == 1
    with ctx.session() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "k:nochannel"))
        assert row is not None and row.status == "failed" and "channel_not_found" in (row.last_error or "")


def test_threads_updates_dms_and_images(ctx: AppContext, emulator: SlackEmulator) -> None:
    now = ctx.now()
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    with ctx.session() as session:
        # enqueued children first: they wait for their parent
        outbox.enqueue(session, "k:reply", "post", "C0QUALITY", note("reply"), now, thread_of="k:parent")
        outbox.enqueue(session, "k:edit", "update", "C0QUALITY", note("parent, edited"), now, update_of="k:parent")
        outbox.enqueue(session, "k:chart", "image", "C0QUALITY", None, now, thread_of="k:parent", image=png,
                       image_title="趋势图")
        outbox.enqueue(session, "k:parent", "post", "C0QUALITY", note("parent"), now)
        outbox.enqueue(session, "k:dm", "dm", "U0SM00001", note("私信"), now)
        outbox.enqueue(session, "k:dm-reply", "dm", "U0SM00001", note("提醒"), now, thread_of="k:dm")
    run_due(ctx, now)
    run_due(ctx, now + dt.timedelta(seconds=10))
    history = emulator.workspace.history("C0QUALITY")
    parent = history[0]
    assert parent["text"] == "parent, edited" and parent.get("edited")
    replies = [m for m in history if m["thread_ts"] == parent["ts"]]
    assert {m["text"] for m in replies} == {"reply", ""}
    assert any(m["files"] and m["files"][0]["title"] == "趋势图" for m in replies)
    dm = emulator.workspace.history(emulator.workspace.dm_channel("U0SM00001"))
    assert [m["text"] for m in dm] == ["私信", "提醒"]
    assert dm[1]["thread_ts"] == dm[0]["ts"]


def test_a_broken_row_fails_alone(ctx: AppContext, emulator: SlackEmulator) -> None:
    now = ctx.now()
    with ctx.session() as session:
        session.add(OutboxMessage(idempotency_key="k:broken", kind="post", target="C0QUALITY", payload={},
                                  status="pending", attempts=0, next_attempt_at=now, created_at=now))
        session.flush()
        outbox.enqueue(session, "k:fine", "post", "C0QUALITY", note("fine"), now)
    report = ctx.deliverer.deliver_due(now)
    assert report.sent == 1 and report.deferred == 1
    for hour in range(1, 12):
        ctx.deliverer.deliver_due(now + dt.timedelta(hours=hour))
    with ctx.session() as session:
        broken = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "k:broken"))
        assert broken is not None and broken.status == "failed" and broken.attempts == outbox.MAX_UNEXPECTED_ATTEMPTS
        assert "KeyError" in (broken.last_error or "")


def test_a_reply_whose_parent_never_comes_gives_up(ctx: AppContext, emulator: SlackEmulator) -> None:
    now = ctx.now()
    with ctx.session() as session:
        outbox.enqueue(session, "k:orphan", "post", "C0QUALITY", note("orphan"), now, thread_of="k:never")
    assert ctx.deliverer.deliver_due(now).deferred == 1
    assert ctx.deliverer.deliver_due(now + dt.timedelta(minutes=30)).deferred == 1
    assert ctx.deliverer.deliver_due(now + dt.timedelta(hours=2)).failed == 1
    assert emulator.calls_to("chat.postMessage") == []


def test_a_reply_waits_for_the_parent_another_deliverer_is_sending(ctx: AppContext, settings, clock,  # type: ignore[no-untyped-def]
                                                                  emulator: SlackEmulator) -> None:
    """Two requests delivering at once: the card is on its way through one, its thread line
    through the other, which waits for the card rather than for the delivery job."""
    now = ctx.now()
    with ctx.session() as session:
        outbox.enqueue(session, "k:card", "post", "C0QUALITY", note("card"), now)
        outbox.enqueue(session, "k:line", "post", "C0QUALITY", note("line"), now, thread_of="k:card")
        outbox.enqueue(session, "k:lost", "post", "C0QUALITY", note("lost"), now)
        outbox.enqueue(session, "k:lost-line", "post", "C0QUALITY", note("lost line"), now, thread_of="k:lost")
        ids = {key: row_id for key, row_id in session.execute(select(OutboxMessage.idempotency_key,
                                                                     OutboxMessage.id))}
    sending = bootstrap(settings, clock=clock, worker="sending", sleep=lambda _s: None)
    # (the claim a deliverer finishes is its thread's last one: the card's)
    assert sending.deliverer.claim(ids["k:lost"]) and sending.deliverer.claim(ids["k:card"])
    polls: list[float] = []

    def poll(seconds: float) -> None:
        if seconds == outbox.PARENT_POLL_SECONDS:
            polls.append(seconds)
            if len(polls) == 2:  # the card lands while its line waits
                assert sending.deliverer._deliver_claimed(ids["k:card"], now) == "sent"

    waiting = bootstrap(settings, clock=clock, worker="waiting", sleep=poll)
    report = waiting.deliverer.deliver_due(now, keys=["k:line"])
    assert (report.sent, report.deferred) == (1, 0)
    history = emulator.workspace.history("C0QUALITY")
    assert [(m["text"], m["thread_ts"]) for m in history] == [("card", None), ("line", history[0]["ts"])]
    # the other deliverer died holding its card: the line waits a few seconds, then for the job
    polls.clear()
    report = waiting.deliverer.deliver_due(now, keys=["k:lost-line"])
    assert (report.sent, report.deferred) == (0, 1)
    assert len(polls) * outbox.PARENT_POLL_SECONDS == pytest.approx(outbox.PARENT_IN_FLIGHT_WAIT_SECONDS)
    for other in (sending, waiting):
        other.engine.dispose()


def test_a_claim_is_not_taken_twice(ctx: AppContext, settings, clock) -> None:  # type: ignore[no-untyped-def]
    other = bootstrap(settings, clock=clock, worker="other", sleep=lambda _s: None)
    with ctx.session() as session:
        outbox.enqueue(session, "k:claim", "post", "C0QUALITY", note("claim"), ctx.now())
        row_id = session.scalar(select(OutboxMessage.id))
    assert ctx.deliverer.claim(row_id)
    assert not other.deliverer.claim(row_id)
    clock.advance(dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1))  # the first deliverer died mid-send
    assert other.deliverer.claim(row_id)
    other.engine.dispose()


def test_enqueue_refuses_rows_that_could_never_be_sent(ctx: AppContext) -> None:
    with ctx.session() as session, pytest.raises(ValueError):
        outbox.enqueue(session, "k:empty", "post", "C0QUALITY", None, ctx.now())
    with ctx.session() as session, pytest.raises(ValueError):
        outbox.enqueue(session, "k:noimage", "image", "C0QUALITY", None, ctx.now())


def test_the_pacer_spaces_sends_and_slows_after_a_429() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    pacer = outbox.Pacer(10, sleep=sleep, monotonic=lambda: now[0])
    for _ in range(3):
        pacer.wait()
    assert slept == [0.1, 0.1]
    pacer.rate_limited(30)  # a long Retry-After holds the next send for at most MAX_HOLD_SECONDS
    pacer.wait()
    assert slept[-1] <= outbox.MAX_HOLD_SECONDS + 0.2
    pacer.wait()
    assert slept[-1] == pytest.approx(0.11, abs=0.001)  # a tenth slower


def test_the_pace_recovers_after_a_burst_of_429s() -> None:
    now = [0.0]
    pacer = outbox.Pacer(50, sleep=lambda seconds: now.__setitem__(0, now[0] + seconds), monotonic=lambda: now[0])
    for _ in range(44):
        pacer.rate_limited(0)
    assert 1 / pacer.interval < 1  # slowed to under one message a second
    for _ in range(150):
        pacer.wait()
    assert pacer.interval == pytest.approx(1 / 50)  # back to the configured pace
