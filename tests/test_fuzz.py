"""Every command, button, option list and dialog, driven over signed HTTP with hostile values
(numbers past a 32-bit column, digits that are not numbers, exponents, NUL, text past every
column, mentions, emoji, injection, malformed ids): no answer is a 500, on either database,
and the Block Kit sent back stays valid (the emulator checks it)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.complaints.card_actions import ACTIONS
from bot.core.commands import COMMANDS
from bot.core.context import AppContext
from handlers.testing.slack_emulator import BotResponse, SlackEmulator, SlackSender
from tests.test_complaints import submit_log

QE, LI, STRANGER = "U0QE00001", "U0SM00001", "U0STRANGR"
HOSTILE = ["2147483648", "-1", "²", "①", "1e30", "1e-30", "1_000", "12.3456789", "NaN", "\x00", "x\x00y" * 50,
           "长" * 3001, "' OR 1=1 --", "<!channel> <@U0BOSS001> &lt;", "😀" * 300, "2026-13",
           "１２３４５６７８９０１２", "", "   ", '{"period": "2030-01"}', "KS-2026-99999", "../../etc/passwd",
           "U0QE00001"]


def action_ids() -> list[str]:
    """What the app answers, read from its listeners' registrations."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("handlers/slack").glob("*.py"))
    found = set(re.findall(r'app\.action\("([^"]+)"\)', source))
    found |= {f"complaint.{key}" for key in ACTIONS} | {"complaint.return_approve", "complaint.return_reject",
                                                          "csat.record_event", "csat.correct_event"}
    return sorted(found)


def fill(view: dict[str, Any], value: str) -> dict[str, Any]:
    """Every input of the view set to `value`, in the shape its element type submits."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        key, kind = block["block_id"], block["element"]["type"]
        if kind in ("static_select", "external_select"):
            entry: dict[str, Any] = {"selected_option": {"value": value}}
        elif kind == "users_select":
            entry = {"selected_user": value}
        elif kind == "datetimepicker":
            entry = {"selected_date_time": value}
        elif kind == "datepicker":
            entry = {"selected_date": value}
        elif kind == "file_input":
            entry = {"files": [{"id": value, "name": value, "size": value}]}
        elif kind in ("checkboxes", "multi_static_select"):
            entry = {"selected_options": [{"value": value}]}
        else:
            entry = {"value": value}
        state[key] = {key: {"type": kind, **entry}}
    return state


class Tally:
    def __init__(self) -> None:
        self.tried = 0
        self.failures: list[str] = []

    def check(self, response: BotResponse, what: str) -> None:
        self.tried += 1
        if response.status >= 500 or response.status == 401:
            self.failures.append(f"{response.status}: {what}")


def opened_views(slack: SlackSender, emulator: SlackEmulator, number: str) -> list[tuple[str, dict[str, Any]]]:
    """(who opened it, the view) for every dialog csatbot has."""
    openers: list[tuple[str, Any]] = [
        (QE, lambda: slack.command("/complaint", "ACME 车门异响 5件", QE)),
        (QE, lambda: slack.command("/csat", "event ACME", QE)),
        (LI, lambda: slack.command("/csat", "figures", LI)),
    ]
    for key, action in ACTIONS.items():
        if action.fields is not None:
            openers.append((QE, lambda key=key: slack.block_action(QE, f"complaint.{key}", number,
                                                                   channel_id="C0QUALITY", message_ts="1.1")))
    views = []
    for user, open_it in openers:
        before = len(emulator.calls_to("views.open"))
        open_it()
        views.append((user, emulator.wait_for("views.open", count=before + 1)[-1].response["view"]))
    return views


def test_no_hostile_value_gets_a_500(slack: SlackSender, ctx: AppContext, people: None,
                                     emulator: SlackEmulator, caplog: pytest.LogCaptureFixture) -> None:
    logged = submit_log(slack, emulator, QE, "ACME 车门异响 5件", {"symptom": "车门异响", "quantity": "5"})
    assert logged["response"].status == 200
    number = "KS-2026-0001"
    views = opened_views(slack, emulator, number)
    assert len(views) >= 10
    tally = Tally()
    words = sorted({c.usage.split()[1] if len(c.usage.split()) > 1 and not c.usage.split()[1].startswith("[")
                    else "" for c in COMMANDS} | {""})
    actions = action_ids()
    for value in HOSTILE:
        for command in ("/csat", "/complaint"):
            for word in words:
                text = f"{word} {value}".strip()
                for user in (QE, STRANGER):
                    tally.check(slack.command(command, text, user), f"{command} {text!r} by {user}")
        for action_id in actions:
            tally.check(slack.block_action(QE, action_id, value, channel_id="C0QUALITY", message_ts="1.1"),
                        f"{action_id} {value!r}")
        tally.check(slack.options(QE, "customer", value), f"customer options {value!r}")
        for user, view in views:
            tally.check(slack.view_submission(user, view, fill(view, value)),
                        f"{view['callback_id']} filled with {value!r}")
            forged = dict(view, private_metadata=value)
            tally.check(slack.view_submission(user, forged, fill(view, "1")),
                        f"{view['callback_id']} metadata {value!r}")
    # a crash that the listener turned into an apology is still a crash
    crashes = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.getMessage() in (
        "listener failed", "could not open a dialog", "unhandled error in a listener")]
    print(f"fuzzed requests: {tally.tried}, answered 500 (or 401): {len(tally.failures)}, crashes: {len(crashes)}")
    assert tally.failures == [], tally.failures[:20]
    assert crashes == []
