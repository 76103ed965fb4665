"""After-sales quality revisits: owed from an import or an effective action, the customer's
owner told and chased on working days until it is recorded; problems found open an action."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from handlers.cli import main
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from scheduled.jobs import revisits
from storage.models import CorrectiveAction, Revisit
from tests.conftest import SHANGHAI

LI = "U0SM00001"


def test_revisits_are_imported_once_chased_recorded_and_open_an_action(
        slack: SlackSender, ctx: AppContext, people: None, emulator: SlackEmulator, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, clock: FixedClock) -> None:
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    sheet = tmp_path / "revisits.csv"
    sheet.write_text("customer,product,reason,due,note\n"
                     "ACME,DM-2201 门锁,new_product,2026-10-09,首批交付 9 月\n"
                     "ACME,WS-310,让步接收,2026-10-30,\n", encoding="utf-8")
    assert main(["import", "revisits", str(sheet)]) == 0
    assert main(["import", "revisits", str(sheet)]) == 0
    assert "0 new, 2 imported before" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,product,reason,due\nNOPE,,sometimes,2026-13-01\n", encoding="utf-8")
    assert main(["import", "revisits", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "Unknown customer" in err and "Name the product" in err and "not a date" in err

    def dms() -> list[str]:
        channel = emulator.workspace.dm_channel(LI)
        return [c.args["text"] for c in emulator.calls_to("chat.postMessage")
                if c.response.get("channel", "") == channel]

    for day in (8, 9, 9, 10, 11, 12):  # due 10-09; 10-10 is a make-up working Saturday, 10-11 a Sunday
        when = dt.datetime(2026, 10, day, 10, tzinfo=SHANGHAI)
        clock.set(when)
        revisits(ctx, when)
        ctx.deliverer.deliver_due(when)
    chased = dms()
    assert len(chased) == 3 and "今天" in chased[0]  # 10-09, 10-10, 10-12: once a working day
    reminder = next(c for c in emulator.calls_to("chat.postMessage") if c.args["text"] == chased[-1])
    button = next(e for b in reminder.args["blocks"] for e in b.get("elements", [])
                  if e.get("action_id") == "revisit.record")
    assert slack.block_action("U0FI00001", "revisit.record", button["value"], channel_id="D1",
                              message_ts="1.1").status == 200  # finance may not record it
    slack.block_action(LI, "revisit.record", button["value"], channel_id="D1", message_ts="1.1")
    view = emulator.wait_for("views.open")[0].response["view"]
    values = {"visited_on": {"visited_on": {"type": "datepicker", "selected_date": "2026-10-12"}},
              "met_whom": {"met_whom": {"type": "plain_text_input", "value": "刘工（质量部）"}},
              "customer_said": {"customer_said": {"type": "plain_text_input", "value": "门锁手感改善"}},
              "problems": {"problems": {"type": "plain_text_input", "value": ""}},
              "follow_up": {"follow_up": {"type": "static_select", "selected_option": {"value": "action"}}}}
    refused = slack.view_submission(LI, view, values).json()
    assert "problems" in refused["errors"]
    values["problems"] = {"problems": {"type": "plain_text_input", "value": "个别门锁回弹慢"}}
    saved = slack.view_submission(LI, view, values)
    assert saved.status == 200 and saved.body == "", saved.body
    with ctx.session() as session:
        revisit = session.scalar(select(Revisit).where(Revisit.reason == "new_product"))
        action = session.scalar(select(CorrectiveAction).where(CorrectiveAction.trigger_kind == "revisit"))
    assert revisit is not None and revisit.status == "recorded" and revisit.met_whom == "刘工（质量部）"
    assert action is not None and "个别门锁回弹慢" in action.title and action.owner_id is not None
    when = dt.datetime(2026, 10, 13, 10, tzinfo=SHANGHAI)
    clock.set(when)
    revisits(ctx, when)
    ctx.deliverer.deliver_due(when)
    assert len([t for t in dms() if "回访" in t and "未" in t]) == 2  # recorded: no longer chased
    capsys.readouterr()
    assert main(["revisits", "list", "--status", "all", "--json"]) == 0
    listed = {r["reason"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed["new_product"]["status"] == "recorded" and listed["concession"]["status"] == "due"
    card = json.dumps(slack.command("/csat", "customer ACME", LI).answer(), ensure_ascii=False)
    assert "待进行的质量回访（1）" in card and "WS-310" in card  # the customer card lists the revisit still due


def test_a_revisit_owed_is_noted_by_hand_and_its_problems_logged_as_a_complaint(
        slack: SlackSender, ctx: AppContext, people: None, emulator: SlackEmulator, clock: FixedClock) -> None:
    clock.set(dt.datetime(2026, 10, 12, 10, tzinfo=SHANGHAI))
    assert "无权" in slack.command("/csat", "revisit new ACME", "U0FI00001").answer()["text"]
    slack.command("/csat", "revisit new ACME", LI)
    view = emulator.wait_for("views.open")[0].response["view"]
    assert view["callback_id"] == "revisit.new"
    values = {"customer": {"customer": {"type": "external_select", "selected_option": {"value": "ACME"}}},
              "product": {"product": {"type": "plain_text_input", "value": ""}},
              "reason": {"reason": {"type": "static_select", "selected_option": {"value": "change_first_batch"}}},
              "due": {"due": {"type": "datepicker", "selected_date": "2026-10-12"}},
              "note": {"note": {"type": "plain_text_input", "value": ""}}}
    assert set(slack.view_submission(LI, view, values).json()["errors"]) == {"product"}
    values["product"] = {"product": {"type": "plain_text_input", "value": "DM-2201 新版锁舌"}}
    for _ in range(2):
        assert slack.view_submission(LI, view, values).status == 200
    with ctx.session() as session:
        owed = list(session.scalars(select(Revisit)))
    assert len(owed) == 1 and owed[0].reason == "change_first_batch" and owed[0].source == "dialog"
    revisits(ctx, clock.now())
    ctx.deliverer.deliver_due(clock.now())
    slack.block_action(LI, "revisit.record", str(owed[0].id), channel_id="D1", message_ts="1.1")
    record = emulator.wait_for("views.open", count=2)[1].response["view"]
    answer = {"visited_on": {"visited_on": {"type": "datepicker", "selected_date": "2026-10-12"}},
              "met_whom": {"met_whom": {"type": "plain_text_input", "value": "王经理"}},
              "customer_said": {"customer_said": {"type": "plain_text_input", "value": "总体满意"}},
              "problems": {"problems": {"type": "plain_text_input", "value": "锁舌划伤 3 件"}},
              "follow_up": {"follow_up": {"type": "static_select", "selected_option": {"value": "none"}}}}
    assert slack.view_submission(LI, record, answer).status == 200
    thanks = emulator.wait_for("chat.postMessage", lambda c: "回访已记录" in c.args["text"])[0]
    button = next(e for b in thanks.args["blocks"] for e in b.get("elements", [])
                  if e.get("action_id") == "revisit.complaint")
    slack.block_action(LI, "revisit.complaint", button["value"], channel_id="D1", message_ts="1.1")
    complaint = emulator.wait_for("views.open", count=3)[2].response["view"]
    assert complaint["callback_id"] == "complaint.log"
    symptom = next(b for b in complaint["blocks"] if b.get("block_id") == "symptom")
    assert "锁舌划伤 3 件" in symptom["element"]["initial_value"]
