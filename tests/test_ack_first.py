"""Ack first: a command is acknowledged before its use case runs, the answer follows through
the response URL and replaces the acknowledgement, a button acks before its work, and an
answer that cannot go through the response URL reaches the person in their DMs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from bot.conversation import commands
from bot.core.context import AppContext
from handlers.bootstrap import RunningBot
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, eventually

QE, QE_EN = "U0QE00001", "U0QE00002"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """`/csat` answers only once the event is set: a slow answer, without waiting for time."""
    gate = threading.Event()
    original = commands.csat

    def slow(*args: object, **kwargs: object) -> object:
        assert gate.wait(30), "the test never released the answer"
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(commands, "csat", slow)
    yield gate
    gate.set()


def test_a_slow_answer_is_acknowledged_at_once_and_replaces_the_acknowledgement(
        raw_slack: SlackSender, scored: AppContext, emulator: SlackEmulator, held: threading.Event) -> None:
    response = raw_slack.command("/csat", "customer ACME 2026-09", QE_EN)
    assert response.status == 200
    ack = response.json()
    assert ack["response_type"] == "ephemeral" and ack["text"] == "⏳ Working on `/csat customer ACME 2026-09`…"
    assert emulator.calls_to("response_url") == []  # nothing answered yet: the use case is still held
    shown = [e["text"] for e in emulator.workspace.ephemeral if e["user"] == QE_EN]
    assert shown == [ack["text"]]  # what Slack shows meanwhile
    held.set()
    answer = response.answer()
    assert answer["replace_original"] is True and "ACME Motors" in answer["text"]
    eventually(lambda: _only_the_answer_is_shown(emulator, answer["text"]))


def _only_the_answer_is_shown(emulator: SlackEmulator, text: str) -> None:
    assert [e["text"] for e in emulator.workspace.ephemeral if e["user"] == QE_EN] == [text]


def test_the_acknowledgement_is_in_the_callers_language(raw_slack: SlackSender, scored: AppContext,
                                                         held: threading.Event) -> None:
    chinese = raw_slack.command("/csat", "overview", QE).json()
    assert chinese["text"] == "⏳ 正在处理 `/csat overview`…"
    stranger = raw_slack.command("/csat", "help", "U0STRANGR").json()
    assert stranger["text"].startswith("⏳")  # someone unknown is acknowledged too (in the company language)
    held.set()


def test_a_command_that_opens_a_dialog_replaces_its_acknowledgement(slack: SlackSender, scored: AppContext,
                                                                    emulator: SlackEmulator) -> None:
    response = slack.command("/complaint", "", QE)
    assert emulator.wait_for("views.open")[0].response["view"]["callback_id"] == "complaint.log"
    assert response.answer()["replace_original"] is True
    assert [e["text"] for e in emulator.workspace.ephemeral if e["user"] == QE] == ["正在打开投诉登记对话框…"]


def test_an_answer_the_response_url_refuses_arrives_by_direct_message(
        slack: SlackSender, scored: AppContext, emulator: SlackEmulator) -> None:
    emulator.fail_next("response_url", status=404, retry_after=None)
    response = slack.command("/csat", "customer ACME 2026-09", QE_EN)
    assert response.status == 200
    posts = emulator.wait_for("chat.postMessage", lambda c: c.args.get("channel") == QE_EN)  # a DM to the person
    assert posts[0].args["text"] == "ACME Motors: 79.0 (Average) in 2026-09"


def test_an_answer_that_fails_after_the_ack_tells_the_person(slack: SlackSender, scored: AppContext,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> object:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(commands, "csat", broken)
    answer = slack.command("/csat", "overview", QE_EN).answer()
    assert answer["replace_original"] is True and "something went wrong" in answer["text"]


def test_a_button_acks_before_its_work(raw_slack: SlackSender, scored: AppContext, emulator: SlackEmulator,
                                       running_bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.scorecard import use_cases

    gate = threading.Event()
    original = use_cases.share_answer

    def slow(*args: object) -> object:
        assert gate.wait(30)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(use_cases, "share_answer", slow)
    value = json.dumps({"kind": "overview", "period": "2026-09"})
    pressed = raw_slack.block_action(QE, "csat.share", value, channel_id="C0GENERAL", message_ts="1.1")
    assert pressed.status == 200 and pressed.body == ""
    assert emulator.calls_to("chat.postMessage") == []
    gate.set()
    assert running_bot.executor.wait_idle()
    assert emulator.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "C0GENERAL")
    assert "已分享" in json.dumps(pressed.answer(), ensure_ascii=False)
