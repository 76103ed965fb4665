"""Delivery under faults: nothing lost through a long outage, nothing twice when Slack stored
a message but answered with an error or a deliverer died mid-send, the pace back after a
burst of 429s, and failed messages shown and retried. The clock is injected: minutes and
days pass in milliseconds."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import select

from bot.core import outbox
from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.views import Card, Message, Paragraph
from handlers.bootstrap import bootstrap
from handlers.cli import main as cli
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from scheduled.jobs import run_due
from storage.models import OutboxMessage
from tests.conftest import SHANGHAI

LI, DAVID, HUANG, QE = "U0SM00001", "U0SM00002", "U0FI00001", "U0QE00001"


def at(day: int, hour: int = 9, minute: int = 30) -> dt.datetime:
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=SHANGHAI)


def note(text: str) -> Message:
    return Message(text=text, cards=[Card(title="csatbot", parts=[Paragraph(text)])])


def stored_dms(emulator: SlackEmulator) -> Counter[str]:
    """What people see: the messages in each person's DM with the bot, however the call ended."""
    ws = emulator.workspace
    return Counter({c["user"]: len(ws.history(c["id"])) for c in ws.channels.values() if c["is_im"]
                    and ws.history(c["id"])})


def statuses(ctx: AppContext) -> Counter[str]:
    with ctx.session() as session:
        return Counter(session.scalars(select(OutboxMessage.status)))


def test_a_six_minute_outage_loses_no_call(ctx: AppContext, people: None, clock: FixedClock,
                                           emulator: SlackEmulator) -> None:
    emulator.outage(503)
    start = at(8)
    for second in range(0, 6 * 60 + 1, 15):  # the scheduler's delivery job keeps running through it
        clock.set(start + dt.timedelta(seconds=second))
        run_due(ctx, clock.now())
    assert stored_dms(emulator) == Counter()
    assert statuses(ctx)["failed"] == 0
    emulator.outage(None)
    for minutes in (7, 12, 20):  # backoff is capped: the call goes out within minutes of the end
        clock.set(start + dt.timedelta(minutes=minutes))
        run_due(ctx, clock.now())
    assert stored_dms(emulator) == Counter({LI: 1, DAVID: 1, HUANG: 1})
    assert statuses(ctx) == Counter({"sent": 3})


def test_a_long_outage_fails_messages_at_the_horizon_and_they_can_be_retried(
        ctx: AppContext, clock: FixedClock, emulator: SlackEmulator, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    emulator.outage(500)
    with ctx.session() as session:
        outbox.enqueue(session, "k:outage", "post", "C0QUALITY", note("still wanted"), ctx.now())
    start = ctx.now()
    for hours in range(0, 73, 6):
        ctx.deliverer.deliver_due(start + dt.timedelta(hours=hours, seconds=1))
    assert statuses(ctx) == Counter({"failed": 1})
    with ctx.session() as session:
        [failed] = outbox.failed(session)
    assert failed.key == "k:outage" and "gave up" in failed.error and failed.text == "still wanted"
    emulator.outage(None)
    assert cli(["outbox", "failed", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["key"] for m in listed] == ["k:outage"] and listed[0]["id"] == failed.id
    assert cli(["outbox", "retry", str(failed.id)]) == 0
    assert cli(["outbox", "retry", str(failed.id)]) == 1  # no longer failed
    capsys.readouterr()
    with ctx.session() as session:  # the command line runs on the system clock
        retried_at = session.scalar(select(OutboxMessage.next_attempt_at))
    assert retried_at is not None
    ctx.deliverer.deliver_due(retried_at)
    assert [m["text"] for m in emulator.workspace.history("C0QUALITY")] == ["still wanted"]


def test_stored_but_answered_5xx_is_not_sent_twice(ctx: AppContext, emulator: SlackEmulator) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    with ctx.session() as session:
        outbox.enqueue(session, "k:dm", "dm", LI, note("一条私信"), ctx.now())
        outbox.enqueue(session, "k:post", "post", "C0QUALITY", note("a post"), ctx.now())
    emulator.fail_next("chat.postMessage", status=500, retry_after=None, times=2, after_storing=True)
    ctx.deliverer.deliver_due(ctx.now())
    assert statuses(ctx) == Counter({"pending": 2})  # both answered 500, both in fact stored
    for seconds in (5, 60):
        ctx.deliverer.deliver_due(ctx.now() + dt.timedelta(seconds=seconds))
    assert statuses(ctx) == Counter({"sent": 2})
    assert [m["text"] for m in emulator.workspace.history(emulator.workspace.dm_channel(LI))] == ["一条私信"]
    assert [m["text"] for m in emulator.workspace.history("C0QUALITY")] == ["a post"]
    assert len(emulator.calls_to("chat.postMessage", ok_only=False)) == 2  # no blind resend by the client
    # a thread reply and a chart in the thread, each stored and answered 500
    with ctx.session() as session:
        outbox.enqueue(session, "k:reply", "post", "C0QUALITY", note("in the thread"), ctx.now(), thread_of="k:post")
        outbox.enqueue(session, "k:chart", "image", "C0QUALITY", None, ctx.now(), thread_of="k:post", image=png,
                       image_title="趋势")
    emulator.fail_next("chat.postMessage", status=502, retry_after=None, after_storing=True)
    emulator.fail_next("files.completeUploadExternal", status=500, retry_after=None, after_storing=True)
    for seconds in (0, 5, 60):
        ctx.deliverer.deliver_due(ctx.now() + dt.timedelta(minutes=2, seconds=seconds))
    assert statuses(ctx) == Counter({"sent": 4})
    history = emulator.workspace.history("C0QUALITY")
    assert [m["text"] for m in history] == ["a post", "in the thread", ""]
    assert len(history[2]["files"]) == 1
    assert emulator.calls_to("conversations.replies")


def test_a_deliverer_killed_after_sending_does_not_cause_a_second_copy(
        ctx: AppContext, settings, clock: FixedClock, emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with ctx.session() as session:
        for index in range(3):
            outbox.enqueue(session, f"k:kill:{index}", "dm", LI, note(f"message {index}"), ctx.now())

    class Killed(BaseException):
        """kill -9: nothing after the send runs, not even an except clause."""

    finish = outbox.Deliverer._finish

    def die_after_the_second_send(self, row_id, status, *args, **kwargs):  # type: ignore[no-untyped-def]
        if status == "sent" and row_id == 2:
            raise Killed
        return finish(self, row_id, status, *args, **kwargs)

    monkeypatch.setattr(outbox.Deliverer, "_finish", die_after_the_second_send)
    with pytest.raises(Killed):
        ctx.deliverer.deliver_due(ctx.now())
    monkeypatch.setattr(outbox.Deliverer, "_finish", finish)
    # another process takes over once the dead one's claim has run out
    survivor = bootstrap(settings, clock=clock, worker="survivor", sleep=lambda _s: None)
    # the message it never reached goes at once; the one it held waits for the claim to run out
    assert survivor.deliverer.deliver_due(ctx.now() + dt.timedelta(minutes=1)).sent == 1
    posts = len(emulator.calls_to("chat.postMessage"))
    clock.advance(dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1))
    report = survivor.deliverer.deliver_due(clock.now())
    survivor.engine.dispose()
    assert report.sent == 1 and len(emulator.calls_to("chat.postMessage")) == posts  # found, not resent
    texts = [m["text"] for m in emulator.workspace.history(emulator.workspace.dm_channel(LI))]
    assert texts == ["message 0", "message 1", "message 2"]
    assert statuses(ctx) == Counter({"sent": 3})


def test_the_pace_is_back_after_a_burst_of_429s(ctx: AppContext, emulator: SlackEmulator) -> None:
    configured = float(ctx.settings.messages_per_second)
    emulator.fail_next("chat.postMessage", status=429, retry_after=0, times=44)
    with ctx.session() as session:
        outbox.enqueue_many(session, [outbox.Queued(f"k:pace:{i}", "post", "C0QUALITY", note(f"m{i}"))
                                      for i in range(300)], ctx.now())
    now = ctx.now()
    for seconds in range(0, 120, 2):
        ctx.deliverer.deliver_due(now + dt.timedelta(seconds=seconds))
    assert statuses(ctx) == Counter({"sent": 300})
    assert 1 / ctx.deliverer.pacer.interval == pytest.approx(configured)


def test_a_permanent_error_fails_at_once_and_is_shown_to_quality_engineers(
        ctx: AppContext, people: None, emulator: SlackEmulator, slack: SlackSender) -> None:
    with ctx.session() as session:
        outbox.enqueue(session, "k:gone", "post", "C0ARCHIVE", note("to a channel not there yet"), ctx.now())
    assert ctx.deliverer.deliver_due(ctx.now()).failed == 1
    assert emulator.calls_to("conversations.history") == []  # a definite refusal needs no look-up
    slack.event({"type": "app_home_opened", "user": QE, "tab": "home"}, event_id="EvHomeQeFailed")
    slack.event({"type": "app_home_opened", "user": LI, "tab": "home"}, event_id="EvHomeLiFailed")
    emulator.wait_for("views.publish", count=2)
    home = emulator.workspace.homes[QE]
    shown = json.dumps(home, ensure_ascii=False)
    assert "未能送达的消息" in shown and "to a channel not there yet" in shown and "邀请进该频道" in shown
    assert "未能送达" not in json.dumps(emulator.workspace.homes[LI], ensure_ascii=False)  # not for everyone
    retry = next(e for b in home["blocks"] for e in b.get("elements", []) if e.get("action_id") == "outbox.retry")
    assert slack.block_action(LI, "outbox.retry", retry["value"], view=home).status == 200  # refused: stays failed
    assert statuses(ctx)["failed"] == 1
    emulator.workspace.add_channel("C0ARCHIVE", "archive")  # the cause mended
    assert slack.block_action(QE, "outbox.retry", retry["value"], view=home).status == 200
    emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel") == "C0ARCHIVE")
    emulator.wait_for("views.publish", count=3)  # the home again, without it
    assert "未能送达" not in json.dumps(emulator.workspace.homes[QE], ensure_ascii=False)
    assert slack.block_action(QE, "outbox.retry", retry["value"], view=home).status == 200  # twice: nothing more
    assert slack.block_action(QE, "outbox.retry", "1e9; drop", view=home).status == 200
    assert len([c for c in emulator.calls_to("chat.postMessage") if c.response.get("channel") == "C0ARCHIVE"]) == 1


def test_a_reminder_that_could_not_go_out_before_the_due_day_is_superseded(
        ctx: AppContext, people: None, clock: FixedClock, emulator: SlackEmulator) -> None:
    clock.set(at(8))
    run_due(ctx, clock.now())  # the call
    emulator.outage(503)
    clock.set(at(10))  # two working days before the due date: the reminder is queued, Slack is down
    run_due(ctx, clock.now())
    clock.set(at(12, 23, 0))
    run_due(ctx, clock.now())
    emulator.outage(None)
    clock.set(at(13))  # the due day: its own reminder goes; yesterday's is not sent late
    run_due(ctx, clock.now())
    run_due(ctx, clock.now() + dt.timedelta(seconds=30))
    history = emulator.workspace.history(emulator.workspace.dm_channel(LI))
    assert len(history) == 2 and "截止日" in history[1]["text"]
    with ctx.session() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key.endswith(f"{LI}:due-2")))
    assert row is not None and row.status == "superseded"


def test_a_reply_waits_for_its_parent_through_an_outage_of_hours(ctx: AppContext, emulator: SlackEmulator) -> None:
    with ctx.session() as session:
        outbox.enqueue(session, "k:card", "post", "C0QUALITY", note("the card"), ctx.now())
        outbox.enqueue(session, "k:warning", "post", "C0QUALITY", note("a warning"), ctx.now(), thread_of="k:card")
    emulator.outage(503)
    start = ctx.now()
    for minutes in range(0, 121, 10):
        ctx.deliverer.deliver_due(start + dt.timedelta(minutes=minutes))
    emulator.outage(None)
    for minutes in (135, 150, 165):
        ctx.deliverer.deliver_due(start + dt.timedelta(minutes=minutes))
    history = emulator.workspace.history("C0QUALITY")
    assert [m["text"] for m in history] == ["the card", "a warning"]
    assert history[1]["thread_ts"] == history[0]["ts"]


def test_an_ok_false_internal_error_after_storing_is_looked_up(ctx: AppContext, emulator: SlackEmulator) -> None:
    with ctx.session() as session:
        outbox.enqueue(session, "k:internal", "dm", LI, note("once"), ctx.now())
    emulator.fail_next("chat.postMessage", status=200, retry_after=None, after_storing=True)
    ctx.deliverer.deliver_due(ctx.now())
    ctx.deliverer.deliver_due(ctx.now() + dt.timedelta(minutes=1))
    assert [m["text"] for m in emulator.workspace.history(emulator.workspace.dm_channel(LI))] == ["once"]
    assert statuses(ctx) == Counter({"sent": 1})


def test_a_window_too_full_to_search_is_not_taken_for_absence(ctx: AppContext, emulator: SlackEmulator,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from handlers.slack import messenger

    monkeypatch.setattr(messenger, "LOOKUP_PAGES", 1)
    with ctx.session() as session:
        outbox.enqueue(session, "k:busy", "post", "C0QUALITY", note("mine"), ctx.now())
    emulator.fail_next("chat.postMessage", status=500, retry_after=None, after_storing=True)
    ctx.deliverer.deliver_due(ctx.now())
    for index in range(205):  # a busy channel buries it past what one page holds
        emulator.handle("/api/chat.postMessage", {"Authorization": "Bearer x", "Content-Type": "application/json"},
                        json.dumps({"channel": "C0QUALITY", "text": f"other {index}"}).encode())
    ctx.deliverer.deliver_due(ctx.now() + dt.timedelta(minutes=1))
    assert [m["text"] for m in emulator.workspace.history("C0QUALITY")].count("mine") == 1
    with ctx.session() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "k:busy"))
        assert row is not None and row.status == "pending" and row.in_doubt and "cannot tell" in (row.last_error or "")


def test_a_send_that_lands_after_its_claim_was_lost_leaves_the_row_in_doubt(ctx: AppContext, settings,  # type: ignore[no-untyped-def]
                                                                            clock: FixedClock) -> None:
    from bot.core.ports import Posted

    other = bootstrap(settings, clock=clock, worker="other", sleep=lambda _s: None)
    with ctx.session() as session:
        outbox.enqueue(session, "k:slow", "post", "C0QUALITY", note("slow"), ctx.now())
        row_id = session.scalar(select(OutboxMessage.id))
    assert ctx.deliverer.claim(row_id)  # a send that hangs past its claim
    clock.advance(dt.timedelta(seconds=outbox.CLAIM_SECONDS + 1))
    assert other.deliverer.claim(row_id)
    other.deliverer._release(row_id, clock.now(), "rate limited", 1)  # found nothing, then a 429
    ctx.deliverer._finish(row_id, "sent", clock.now(), Posted("C0QUALITY", "1.2"), None, 1)  # the hung send lands
    with ctx.session() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None and row.status == "pending" and row.in_doubt and row.doubt_since is not None
    other.engine.dispose()
