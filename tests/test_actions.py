"""The life of a corrective action: routed, assigned, analysed, approved or sent back,
implemented, verified effective or sent back to analysis, closed; nobody approves or
verifies their own action."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from bot.actions.lifecycle import StepRefused, take_step
from bot.core.context import AppContext
from bot.core.texts import UserError
from bot.scorecard.actions import evaluate_actions
from handlers.cli import main
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, shown
from scheduled.jobs import run_due
from storage.models import CorrectiveAction, Person, PersonRole
from tests.conftest import NOW

TODAY = dt.date(2026, 10, 20)


def person(ctx: AppContext, slack_id: str) -> Person:
    with ctx.session() as session:
        found = session.scalar(select(Person).where(Person.slack_user_id == slack_id))
        assert found is not None
        session.expunge(found)
        return found


@pytest.fixture
def action_id(scored: AppContext) -> int:
    with scored.session() as session:
        evaluate_actions(session, "2026-09", NOW)
        ma = session.scalar(select(Person).where(Person.slack_user_id == "U0DH00001"))
        assert ma is not None
        session.add(PersonRole(person_id=ma.id, role_key="management_representative"))
        return int(session.scalar(select(CorrectiveAction.id).where(
            CorrectiveAction.trigger_key == "monthly_below_target:ACME:2026-09")))  # type: ignore[arg-type]


def step(ctx: AppContext, action_id: int, key: str, who: str, **values: object) -> str:
    with ctx.session() as session:
        action = session.get(CorrectiveAction, action_id)
        assert action is not None
        by = session.scalar(select(Person).where(Person.slack_user_id == who))
        assert by is not None
        return take_step(session, ctx.authorizer, action, key, by, dict(values), NOW, TODAY).action.status


ANALYSIS = {"root_cause": "包装标签打印机故障", "method": "five_why", "containment": "全检在库品",
            "measures": "更换打印机并加首件检查"}


def test_the_whole_loop_with_a_rejection_and_a_verification_that_found_it_not_effective(
        scored: AppContext, action_id: int, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = scored
    li = person(ctx, "U0SM00001")
    assert step(ctx, action_id, "assign", "U0QE00001", owner=li.id, due_working_days="5") == "assigned"
    with pytest.raises(StepRefused) as missing:
        step(ctx, action_id, "analyse", "U0SM00001", root_cause="", method="guess", containment="x", measures="y")
    assert set(missing.value.errors) == {"root_cause", "method"}
    assert step(ctx, action_id, "analyse", "U0SM00001", **ANALYSIS) == "analysed"
    with pytest.raises(UserError, match="roles do not allow"):
        step(ctx, action_id, "approve", "U0QE00001")  # a quality engineer is not the management representative
    assert step(ctx, action_id, "reject", "U0DH00001", reason="措施不针对根本原因") == "rejected"
    assert step(ctx, action_id, "analyse", "U0SM00001", **ANALYSIS) == "analysed"
    assert step(ctx, action_id, "approve", "U0DH00001") == "approved"
    with pytest.raises(StepRefused) as future:
        step(ctx, action_id, "implement", "U0SM00001", done="已更换", done_on="2027-01-01", evidence="")
    assert set(future.value.errors) == {"done_on", "evidence"}
    assert step(ctx, action_id, "implement", "U0SM00001", done="已更换打印机", done_on="2026-10-15",
                evidence="https://files.example/8d.pdf") == "implemented"
    assert step(ctx, action_id, "verify", "U0QE00001", effective="no", how="抽检10月批次", data="IPQC 记录",
                period="2026-10") == "assigned"
    assert step(ctx, action_id, "analyse", "U0SM00001", **ANALYSIS) == "analysed"
    assert step(ctx, action_id, "approve", "U0DH00001") == "approved"
    assert step(ctx, action_id, "implement", "U0SM00001", done="加首件检查", done_on="2026-10-18",
                evidence="https://files.example/fai.pdf") == "implemented"
    assert step(ctx, action_id, "verify", "U0QE00002", effective="yes", how="连续三批无标签问题",
                data="出货检验", period="2026-10", product="DM-2201") == "verified"
    with ctx.session() as session:  # the first batch after the improvement is revisited
        from storage.models import Revisit

        revisit = session.scalar(select(Revisit).where(Revisit.reason == "after_improvement"))
        assert revisit is not None and revisit.product == "DM-2201" and revisit.source == "action"
    assert step(ctx, action_id, "close", "U0QE00001") == "closed"
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    capsys.readouterr()
    assert main(["actions", "show", str(action_id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "closed" and shown["loops"] == 1 and shown["owner"] == "李强"
    assert [s["step"] for s in shown["steps"]] == ["assign", "analyse", "reject", "analyse", "approve", "implement",
                                                   "verify", "analyse", "approve", "implement", "verify", "close"]
    assert shown["steps"][2]["by"] == "马俊" and shown["steps"][2]["text"] == "措施不针对根本原因"
    assert shown["due"] is not None


def test_nobody_approves_or_verifies_their_own_action(scored: AppContext, action_id: int) -> None:
    ctx = scored
    qe = person(ctx, "U0QE00001")
    step(ctx, action_id, "assign", "U0QE00002", owner=qe.id)
    step(ctx, action_id, "analyse", "U0QE00001", **ANALYSIS)
    with ctx.session() as session:  # the owner is also the management representative
        session.add(PersonRole(person_id=qe.id, role_key="management_representative"))
    with pytest.raises(UserError, match="approves their own"):
        step(ctx, action_id, "approve", "U0QE00001")
    step(ctx, action_id, "approve", "U0DH00001")
    step(ctx, action_id, "implement", "U0QE00001", done="x", done_on="2026-10-19", evidence="link")
    with pytest.raises(UserError, match="verifies their own"):
        step(ctx, action_id, "verify", "U0QE00001", effective="yes", how="x", data="y", period="z")
    assert step(ctx, action_id, "verify", "U0QE00002", effective="yes", how="x", data="y", period="z") == "verified"


def test_steps_follow_the_state_and_the_owner(scored: AppContext, action_id: int) -> None:
    ctx = scored
    with pytest.raises(UserError, match="cannot follow"):
        step(ctx, action_id, "approve", "U0DH00001")
    li = person(ctx, "U0SM00001")
    step(ctx, action_id, "assign", "U0QE00001", owner=li.id)
    with pytest.raises(UserError, match="owner carries out"):
        step(ctx, action_id, "analyse", "U0SM00002", **ANALYSIS)  # another sales manager
    with pytest.raises(StepRefused) as bad:
        step(ctx, action_id, "assign", "U0QE00001", owner="999999", due_working_days="0")
    assert set(bad.value.errors) == {"owner", "due_working_days"}


def test_an_action_runs_from_its_card_in_the_quality_channel(slack: SlackSender, scored: AppContext,
                                                             emulator: SlackEmulator) -> None:
    ctx = scored
    with ctx.session() as session:
        evaluate_actions(session, "2026-09", NOW)
        ma = session.scalar(select(Person).where(Person.slack_user_id == "U0DH00001"))
        assert ma is not None
        session.add(PersonRole(person_id=ma.id, role_key="management_representative"))
        action_id = int(session.scalar(select(CorrectiveAction.id).where(  # type: ignore[arg-type]
            CorrectiveAction.trigger_key == "monthly_below_target:ACME:2026-09")))
    run_due(ctx, NOW)
    run_due(ctx, NOW)  # a second run posts nothing twice
    cards = [c for c in emulator.calls_to("chat.postMessage") if c.args.get("channel") == "C0QUALITY"
             and f"#{action_id} ·" in c.args.get("text", "")]
    assert len(cards) == 1

    def buttons(blocks: list[dict]) -> dict[str, str]:  # type: ignore[type-arg]
        return {json.loads(e["value"])["step"]: e["value"] for b in blocks for e in b.get("elements", [])
                if e.get("action_id") == "action.step"}

    assign = buttons(cards[0].args["blocks"])["assign"]
    slack.block_action("U0QE00001", "action.step", assign, channel_id="C0QUALITY", message_ts="1.1")
    view = emulator.wait_for("views.open")[0].response["view"]
    assert view["callback_id"] == "action.step"
    state = {"owner": {"owner": {"type": "users_select", "selected_user": "U0SM00001"}},
             "department": {"department": {"type": "plain_text_input", "value": "销售部"}},
             "due_working_days": {"due_working_days": {"type": "number_input", "value": "0"}}}
    wrong = slack.view_submission("U0QE00001", view, state).json()
    assert wrong["response_action"] == "errors" and "due_working_days" in wrong["errors"]
    state["due_working_days"] = {"due_working_days": {"type": "number_input", "value": "5"}}
    assert slack.view_submission("U0QE00001", view, state).status == 200
    told = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "").startswith("D")
                             and f"#{action_id}" in c.args.get("text", ""))
    assert "李强" not in told[0].args["text"] and "王静" in told[0].args["text"]  # the owner hears who did it
    updated = emulator.wait_for("chat.update", lambda c: f"#{action_id} ·" in c.args.get("text", ""))[-1]
    assert "analyse" in shown(updated.args) and "李强" in json.dumps(updated.args["blocks"],
                                                                                   ensure_ascii=False)
    with ctx.session() as session:
        action = session.get(CorrectiveAction, action_id)
        assert action is not None and action.status == "assigned" and action.due_date is not None
    # the owner analyses; approving it himself is refused, the management representative approves
    slack.block_action("U0SM00001", "action.step", buttons(updated.args["blocks"])["analyse"],
                       channel_id="C0QUALITY", message_ts="1.1")
    view = emulator.wait_for("views.open", count=2)[1].response["view"]
    analysis = {k: {k: {"type": "plain_text_input", "value": v}} for k, v in ANALYSIS.items() if k != "method"}
    analysis["method"] = {"method": {"type": "static_select", "selected_option": {"value": "fishbone"}}}
    assert slack.view_submission("U0SM00001", view, analysis).status == 200
    with ctx.session() as session:
        assert session.get(CorrectiveAction, action_id).status == "analysed"  # type: ignore[union-attr]
    approve = json.dumps({"id": action_id, "step": "approve"})
    refused = slack.block_action("U0SM00001", "action.step", approve, channel_id="C0QUALITY", message_ts="1.1")
    assert refused.status == 200
    emulator.wait_for("response_url", lambda c: "角色" in json.dumps(c.args, ensure_ascii=False))
    slack.block_action("U0DH00001", "action.step", approve, channel_id="C0QUALITY", message_ts="1.1")
    with ctx.session() as session:
        assert session.get(CorrectiveAction, action_id).status == "approved"  # type: ignore[union-attr]


def test_due_dates_are_chased_across_national_day_once_whatever_runs_twice(
        ctx: AppContext, people: None, emulator: SlackEmulator, settings, sleeps) -> None:  # type: ignore[no-untyped-def]
    from handlers.bootstrap import bootstrap
    from scheduled.jobs import corrective_actions
    from tests.conftest import SHANGHAI

    with ctx.session() as session:
        owner = session.scalar(select(Person).where(Person.slack_user_id == "U0QE00001"))  # 质量部
        assert owner is not None
        session.add(CorrectiveAction(trigger_key="manual:1", trigger_kind="manual", trigger_detail={},
                                     title="标签错误整改 / label errors", owner_id=owner.id,
                                     due_date=dt.date(2026, 10, 9), status="assigned", opened_at=NOW))
    replica = bootstrap(settings, clock=ctx.clock, worker="replica-2", sleep=sleeps)

    def day(month: int, day: int) -> None:
        when = dt.datetime(2026, month, day, 10, tzinfo=SHANGHAI)
        for context in (ctx, replica, ctx):  # two schedulers, and one of them twice
            corrective_actions(context, when)
            context.deliverer.deliver_due(when)

    def texts(user: str) -> list[str]:
        channel = emulator.workspace.dm_channel(user)
        return [c.args["text"] for c in emulator.calls_to("chat.postMessage")
                if c.response.get("channel", "") == channel and "#1" in c.args["text"]]

    day(9, 29)
    assert texts("U0QE00001") == []
    day(9, 30)  # two working days before the due date: 10-08 and 09-30, National Day between
    assert len(texts("U0QE00001")) == 1 and "2026-10-09" in texts("U0QE00001")[0]
    for d in (1, 2, 3, 4, 5, 6, 7, 8):
        day(10, d)
    assert len(texts("U0QE00001")) == 1  # holidays send nothing, and the reminder is sent once
    day(10, 9)
    assert len(texts("U0QE00001")) == 2 and "今天" in texts("U0QE00001")[1]
    day(10, 10)  # the make-up Saturday is a working day: overdue, to the owner
    assert len(texts("U0QE00001")) == 3 and texts("U0DH00001") == []
    day(10, 11)
    day(10, 12)  # a working day later, to the department head
    assert len(texts("U0QE00001")) == 3 and len(texts("U0DH00001")) == 1
    digests = [c for c in emulator.calls_to("chat.postMessage") if c.response.get("channel", "") == "C0QUALITY"
               and "逾期" in c.args["text"]]
    assert len(digests) == 2  # one a working day: 10-10 and 10-12
    replica.engine.dispose()


def test_actions_are_listed_in_slack_and_in_app_home(slack: SlackSender, scored: AppContext,
                                                    emulator: SlackEmulator) -> None:
    with scored.session() as session:
        evaluate_actions(session, "2026-09", NOW)
    everyone = slack.command("/csat", "actions", "U0FI00001").answer()
    assert "纠正措施" in everyone["text"] and "(3)" in everyone["text"]
    mine = json.dumps(slack.command("/csat", "actions mine", "U0SM00001").answer(), ensure_ascii=False)
    assert "交付表现连续" in mine and "月度得分" not in mine  # the sales manager owns the delivery streak
    acme = slack.command("/csat", "actions customer ACME", "U0QE00001").answer()
    assert "(3)" in acme["text"]
    overdue = slack.command("/csat", "actions overdue", "U0QE00001").answer()
    assert "(0)" in overdue["text"]
    slack.event({"type": "app_home_opened", "user": "U0SM00001", "tab": "home"}, event_id="EvHomeActions")
    emulator.wait_for("views.publish")
    home = json.dumps(emulator.workspace.homes["U0SM00001"], ensure_ascii=False)
    assert "我的纠正措施（1）" in home or "我的纠正措施 (1)" in home


def test_a_closed_complaint_with_its_action_pending_says_so(ctx: AppContext, people: None, tmp_path,  # type: ignore[no-untyped-def]
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.complaints.card import complaint_card
    from bot.complaints.statistics import monthly_stats
    from bot.complaints.workflow import open_corrective_action
    from storage.models import Complaint
    from tests.conftest import SHANGHAI
    from tests.test_complaints import LEDGER_HEADER

    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER_HEADER + "KS-2026-0300,ACME,2026-09-01 09:00,一般,DM-2201,B1,门锁异响,closed,"
                      "2026-09-01 10:00,2026-09-02 08:00,2026-09-02 12:00,2026-09-03 16:00,已更换\n", encoding="utf-8")
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    assert main(["import", "complaints", str(ledger)]) == 0
    with ctx.session() as session:
        complaint = session.scalar(select(Complaint))
        assert complaint is not None
        open_corrective_action(session, complaint, None, NOW)
        action = session.scalar(select(CorrectiveAction))
        assert action is not None and action.owner_id is not None and action.owner_department
        stats = monthly_stats(session, "2026-09", SHANGHAI, NOW)
        card = json.dumps(complaint_card(session, complaint, "zh-CN", SHANGHAI, NOW), default=str,
                          ensure_ascii=False)
    assert stats["closed_with_action_pending"] == 1
    assert f"纠正措施 #{action.id} 尚未验证" in card


def test_a_quality_engineer_opens_an_action_by_hand(slack: SlackSender, ctx: AppContext, people: None,
                                                    emulator: SlackEmulator) -> None:
    refused = slack.command("/csat", "action new", "U0SM00001").answer()
    assert "无权" in refused["text"] or "角色" in refused["text"]
    slack.command("/csat", "action new", "U0QE00001")
    view = emulator.wait_for("views.open")[0].response["view"]
    assert view["callback_id"] == "action.new"
    values = {"title": {"title": {"type": "plain_text_input", "value": ""}},
              "customer": {"customer": {"type": "external_select", "selected_option": {"value": "ACME"}}},
              "area": {"area": {"type": "static_select", "selected_option": {"value": "delivery"}}},
              "owner": {"owner": {"type": "users_select", "selected_user": None}},
              "due_working_days": {"due_working_days": {"type": "number_input", "value": "5"}}}
    empty = slack.view_submission("U0QE00001", view, values).json()
    assert set(empty["errors"]) == {"title"}
    values["title"] = {"title": {"type": "plain_text_input", "value": "交付批次标签错误 / wrong batch labels"}}
    for _ in range(2):  # the same submission twice opens one action
        assert slack.view_submission("U0QE00001", view, values).status == 200
    card = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "") == "C0QUALITY"
                             and "交付批次标签错误" in c.args["text"])
    assert len(card) == 1
    with ctx.session() as session:
        actions = list(session.scalars(select(CorrectiveAction)))
        owner = session.get(Person, actions[0].owner_id)
    assert len(actions) == 1 and actions[0].area == "delivery" and actions[0].status == "assigned"
    assert owner is not None and owner.name == "李强"  # ACME's owner is its sales manager, the delivery area's role


def test_two_approvals_at_once_take_the_step_once(scored: AppContext, action_id: int) -> None:
    from tests.conftest import at_once

    ctx = scored
    li = person(ctx, "U0SM00001")
    step(ctx, action_id, "assign", "U0QE00001", owner=li.id)
    step(ctx, action_id, "analyse", "U0SM00001", **ANALYSIS)
    with ctx.session() as session:  # a second management representative
        session.add(PersonRole(person_id=person(ctx, "U0FI00001").id, role_key="management_representative"))

    def approve(who: str) -> None:
        with ctx.session() as session:
            action = session.get(CorrectiveAction, action_id)
            by = session.scalar(select(Person).where(Person.slack_user_id == who))
            assert action is not None and by is not None
            action.status  # noqa: B018 - both read the state before either writes
            take_step(session, ctx.authorizer, action, "approve", by, {}, NOW, TODAY)

    errors = at_once(approve, ["U0DH00001", "U0FI00001"])
    assert len(errors) == 1 and ("meanwhile" in str(errors[0]) or "cannot follow" in str(errors[0]))
    with ctx.session() as session:
        from bot.actions.lifecycle import steps_of

        assert [s["step"] for s in steps_of(session, action_id)].count("approve") == 1


def test_a_due_date_on_a_holiday_is_told_on_the_last_working_day_before_it(
        ctx: AppContext, people: None, emulator: SlackEmulator) -> None:
    from scheduled.jobs import corrective_actions
    from tests.conftest import SHANGHAI

    with ctx.session() as session:
        owner = session.scalar(select(Person).where(Person.slack_user_id == "U0QE00001"))
        assert owner is not None
        session.add(CorrectiveAction(trigger_key="manual:2", trigger_kind="manual", trigger_detail={},
                                     title="整改 / fix", owner_id=owner.id, due_date=dt.date(2026, 10, 3),
                                     status="assigned", opened_at=NOW))
    for day in ((9, 28), (9, 29), (9, 30)):
        when = dt.datetime(2026, *day, 10, tzinfo=SHANGHAI)
        ctx.clock.set(when)  # type: ignore[attr-defined]
        corrective_actions(ctx, when)
        ctx.deliverer.deliver_due(when)
    channel = emulator.workspace.dm_channel("U0QE00001")
    told = [c.args["text"] for c in emulator.calls_to("chat.postMessage") if c.response.get("channel") == channel]
    assert len(told) == 2 and "最后一个工作日" in told[-1]  # 09-29 two days before, 09-30 the last working day


def test_a_customers_responsibility_opens_its_quality_information_reply(ctx: AppContext, people: None,
                                                                        tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from bot.complaints import workflow
    from storage.models import Complaint
    from tests.test_complaints import LEDGER_HEADER

    ledger = tmp_path / "ledger.csv"
    ledger.write_text(LEDGER_HEADER + ",ACME,2026-10-12 09:00,一般,DM-2201,B9,异响,open,2026-10-12 10:00,,,,\n",
                      encoding="utf-8")
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    assert main(["import", "complaints", str(ledger)]) == 0
    with ctx.session() as session:
        complaint = session.scalar(select(Complaint))
        assert complaint is not None
        complaint.owner_id = person(ctx, "U0QE00001").id
        workflow.decide_responsibility(session, complaint, "customer", None, NOW, None, "QI-2026-07 顾客装配不当")
        workflow.decide_responsibility(session, complaint, "customer", None, NOW, None, "QI-2026-07 顾客装配不当")
        replies = list(session.scalars(select(CorrectiveAction).where(
            CorrectiveAction.trigger_kind == "quality_info_reply")))
        assert len(replies) == 1 and replies[0].trigger_detail["reply"] == "QI-2026-07 顾客装配不当"
        number = replies[0].id
    with pytest.raises(UserError, match="does not belong"):
        step(ctx, number, "analyse", "U0QE00001", **ANALYSIS)
    with pytest.raises(StepRefused):
        step(ctx, number, "confirm", "U0QE00001", confirmed="", customer_answer="")
    assert step(ctx, number, "confirm", "U0QE00001", confirmed="no", customer_answer="顾客不认可") == "assigned"
    assert step(ctx, number, "confirm", "U0QE00001", confirmed="yes", customer_answer="顾客签字确认") == "closed"
    with ctx.session() as session:  # closed on the customer's answer, the refusal before it counted
        complaint = session.scalar(select(Complaint))
        assert complaint is not None
        action = session.get(CorrectiveAction, number)
        assert action is not None and action.loops == 1 and action.verification == "顾客签字确认"
