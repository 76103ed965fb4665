"""More than one worker: the database elects one scheduler among all worker processes of all
replicas, another takes over when it stops, and eight contenders ticking at once send every
message once; `serve --workers` runs the scheduler and the answers in processes of their
own beside the workers, and keeps them alive."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core import queued_work
from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.settings import Settings
from handlers.bootstrap import RunningBot, bootstrap
from handlers.server import AnswerQueue, prefork_available
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from scheduled.jobs import DELIVERY_JOB, DERIVE_JOBS, Job
from scheduled.scheduler import LEASE_SECONDS, Elected
from storage.models import Lease, QueuedWork
from tests.conftest import SIGNING_SECRET, at_once

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
    keys = Counter((c.args.get("channel") or c.args.get("channel_id"),  # a file by its title
                    c.args.get("text") or str([f.get("title") for f in c.args.get("files") or []])) for c in sent)
    assert max(keys.values()) == 1, keys.most_common(3)
    for contender in contenders:
        contender.ctx.engine.dispose()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"PPid:\t{pid}\n" in (entry / "status").read_text():
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def _until(condition, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """Polls `condition` (a real server in other processes) until it gives something true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("not within the timeout")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.skipif(not prefork_available() or not Path("/proc").is_dir(), reason="gunicorn needs fork and /proc")
def test_serve_with_workers_answers_and_keeps_its_scheduler_and_answers_in_processes_of_their_own(
        settings: Settings, people: None, emulator: SlackEmulator, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, CSATBOT_DATABASE_URL=settings.database_url, SLACK_BOT_TOKEN="xoxb-test-token",
               SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=emulator.api_url,
               CSATBOT_QUALITY_CHANNEL="C0QUALITY", CSATBOT_DATA_DIR=str(tmp_path))
    master = subprocess.Popen(
        [sys.executable, "-c", "from handlers.cli import main; main()", "serve", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "2", "--threads", "4"], cwd=Path(__file__).resolve().parent.parent, env=env,
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "wb"))
    url = f"http://127.0.0.1:{port}"
    ctx = bootstrap(settings)
    try:
        _until(lambda: _healthy(url))
        answer = SlackSender(url + "/slack/events", SIGNING_SECRET, emulator=emulator).command(
            "/csat", "help", "U0QE00001", channel_id="C0QUALITY").answer(timeout=30)
        assert "/csat customer" in str(answer)

        def holder() -> int | None:
            with ctx.session() as session:
                lease = session.scalar(select(Lease).where(Lease.name == "scheduler"))
            return int(lease.holder.split(":")[1]) if lease is not None else None

        scheduler = _until(holder)
        # two workers, and beside them the scheduler and two answer processes (an answer came: they work)
        children = _until(lambda: _children(master.pid) if len(_children(master.pid)) == 5 else None)
        assert scheduler in children

        os.kill(scheduler, signal.SIGKILL)
        again = _until(lambda: {c for c in _children(master.pid) if c != scheduler} if len(
            {c for c in _children(master.pid) if c != scheduler}) == 5 else None)
        assert len(again - children) == 1  # the master forked a scheduler again

        master.send_signal(signal.SIGTERM)
        assert master.wait(60) == 0
        _until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in again))  # workers and scheduler stopped
    finally:
        if master.poll() is None:
            master.kill()
            master.wait(30)
        ctx.engine.dispose()


def test_kept_work_is_claimed_once_found_again_when_its_taker_dies_and_given_up_after_three_tries(
        ctx: AppContext, clock: FixedClock) -> None:
    [work_id] = queued_work.queue(ctx.factory, [("work_1", "body", {"x": ["1"]})], ctx.now())
    taken = queued_work.claim(ctx.factory, work_id, "answers-a", ctx.now())
    assert taken is not None and (taken.name, taken.body, taken.headers, taken.attempts) == (
        "work_1", "body", {"x": ["1"]}, 1)
    assert queued_work.claim(ctx.factory, work_id, "answers-b", ctx.now()) is None  # one taker at a time
    assert queued_work.left_behind(ctx.factory, ctx.now()) == []  # its taker is at it
    clock.advance(queued_work.CLAIM)  # the taker died: its claim ran out
    assert queued_work.left_behind(ctx.factory, ctx.now()) == [work_id]
    again = queued_work.claim(ctx.factory, work_id, "answers-b", ctx.now())
    assert again is not None and again.attempts == 2
    queued_work.done(ctx.factory, work_id, "answers-a")  # the dead taker's late word changes nothing
    assert queued_work.claim(ctx.factory, work_id, "answers-c", ctx.now()) is None
    clock.advance(queued_work.CLAIM)
    assert queued_work.claim(ctx.factory, work_id, "answers-c", ctx.now()) is not None  # third try, dies too
    clock.advance(queued_work.CLAIM)
    assert queued_work.left_behind(ctx.factory, ctx.now()) == []  # given up, not tried a fourth time
    with ctx.session() as session:
        assert session.scalar(select(func.count()).select_from(QueuedWork)) == 0

    [unsignalled] = queued_work.queue(ctx.factory, [("work_2", "body", {})], ctx.now())  # its signal was lost
    assert queued_work.left_behind(ctx.factory, ctx.now()) == []  # a signal may still be on its way
    clock.advance(queued_work.UNTAKEN)
    assert queued_work.left_behind(ctx.factory, ctx.now()) == [unsignalled]
    assert queued_work.claim(ctx.factory, unsignalled, "answers-a", ctx.now()) is not None
    queued_work.done(ctx.factory, unsignalled, "answers-a")
    with ctx.session() as session:
        assert session.scalar(select(func.count()).select_from(QueuedWork)) == 0


def test_an_answer_whose_process_was_killed_is_answered_by_another(
        ctx: AppContext, people: None, emulator: SlackEmulator, clock: FixedClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sweeps: list[list[int]] = []
    looked = queued_work.left_behind
    monkeypatch.setattr(queued_work, "left_behind", lambda *a, **k: sweeps.append(looked(*a, **k)) or sweeps[-1])
    answers = AnswerQueue(sweep_seconds=0.05)
    worker = RunningBot(ctx, scheduler=False)
    stop_keeping = answers.runner(worker.app, worker.ctx)
    server = worker.serve_in_background(threads=2)
    answering = RunningBot(ctx, scheduler=False)
    stopping = threading.Event()
    thread = threading.Thread(target=answers.answer, args=(answering.app, answering.ctx, 2, stopping))
    try:
        sent = SlackSender(server.url + "/slack/events", SIGNING_SECRET, emulator=emulator).command(
            "/csat", "help", "U0QE00001", channel_id="C0QUALITY")
        assert "⏳" in str(sent.json())  # acknowledged at once
        # an answer process took the signal and claimed the work, then was killed
        assert queued_work.claim(ctx.factory, answers.queue.get(timeout=10), "killed-answers", ctx.now())
        thread.start()  # the answer process forked again in its place
        _until(lambda: len(sweeps) >= 2)
        assert sweeps[:2] == [[], []] and emulator.calls_to("response_url") == []  # the dead one's claim holds
        clock.advance(queued_work.CLAIM)
        assert "/csat customer" in str(sent.answer(timeout=30))
        with ctx.session() as session:
            assert _until(lambda: session.scalar(select(func.count()).select_from(QueuedWork)) == 0 or None)
    finally:
        stopping.set()
        if thread.is_alive():
            thread.join(30)
        server.stop()
        worker.stop()
        stop_keeping()
        answering.stop()
