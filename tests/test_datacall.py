"""The monthly data call with a moved clock: the September 2026 call across National Day,
several roles, a deputy, the dialog with its errors, drafts and corrections, reminders,
overdue posts, a bot that was down, two schedulers, and a 429 storm."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import select

import bot.datacall.dialog
from bot.calendar.working_days import WorkingCalendar
from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.stored_settings import data_call_settings
from bot.datacall.obligations import call_dates, obligations
from handlers.bootstrap import bootstrap
from handlers.cli import main
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, shown
from scheduled.jobs import run_due
from storage.models import Customer, FigureDraft, FigureSubmission, Person, RoleDelegation
from tests.conftest import SHANGHAI, at_once

LI, DAVID, HUANG, MA, QE, QE_EN = "U0SM00001", "U0SM00002", "U0FI00001", "U0DH00001", "U0QE00001", "U0QE00002"


def at(day: int, hour: int = 9, minute: int = 30, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def dms(emulator: SlackEmulator) -> Counter[str]:
    """Direct messages per person (by DM channel)."""
    owners = {c["id"]: c.get("user") for c in emulator.workspace.channels.values() if c["is_im"]}
    return Counter(owners[c.response.get("channel", "")] for c in emulator.calls_to("chat.postMessage")
                   if c.response.get("channel", "") in owners)


def tick(ctx: AppContext, clock: FixedClock, when: dt.datetime) -> None:
    clock.set(when)
    run_due(ctx, clock.now())


def test_september_2026_opens_after_national_day(ctx: AppContext) -> None:
    with ctx.session() as session:
        dates = call_dates(WorkingCalendar.load(session), "2026-09", data_call_settings(session))
    assert dates.opens == dt.date(2026, 10, 8)
    assert dates.due == dt.date(2026, 10, 13)
    assert dates.remind == dt.date(2026, 10, 10)  # two working days before: the make-up Saturday


def test_who_owes_what(ctx: AppContext, people: None) -> None:
    with ctx.session() as session:
        duties = {d.slack_user_id: d for d in obligations(session, "2026-09", dt.date(2026, 10, 8)).values()}
    assert set(duties) == {LI, DAVID, HUANG}  # quality engineers owe no monthly figures
    li = duties[LI]
    assert set(li.roles) == {"sales_manager", "customer_service"}
    per_role = Counter(i.metric for i in li.items)
    assert per_role["kpi_achievement_rate"] == 1  # only ACME, the customer he owns
    assert per_role["user_satisfaction"] == 2  # customer service answers for every customer
    assert len(duties[HUANG].items) == 6 and not duties[HUANG].submitted


def test_the_call_goes_out_once_on_the_opening_day(ctx: AppContext, people: None, clock: FixedClock,
                                                   emulator: SlackEmulator, settings, sleeps) -> None:  # type: ignore[no-untyped-def]
    tick(ctx, clock, at(1))  # National Day: not open
    tick(ctx, clock, at(8, 8, 0))  # opening day, before office hours
    assert dms(emulator) == Counter()
    tick(ctx, clock, at(8))
    assert dms(emulator) == Counter({LI: 1, DAVID: 1, HUANG: 1})
    calls = {c.response.get("channel", ""): c for c in emulator.calls_to("chat.postMessage")}
    li = calls[emulator.workspace.dm_channel(LI)]
    text = shown(li.args)
    assert "2026-10-13" in li.args["text"] and "销售经理" in text and "客服代表" in text and "填报数据" in text
    assert "Please hand in" in calls[emulator.workspace.dm_channel(DAVID)].args["text"]
    # a restart and a second replica change nothing
    tick(ctx, clock, at(8, 11))
    replica = bootstrap(settings, clock=clock, worker="replica-2", sleep=sleeps)
    run_due(replica, clock.now())
    replica.engine.dispose()
    assert dms(emulator) == Counter({LI: 1, DAVID: 1, HUANG: 1})


def test_a_bot_down_on_the_opening_day_calls_when_it_returns(ctx: AppContext, people: None, clock: FixedClock,
                                                             emulator: SlackEmulator) -> None:
    tick(ctx, clock, at(9, 15))
    assert dms(emulator) == Counter({LI: 1, DAVID: 1, HUANG: 1})


def open_dialog(slack: SlackSender, emulator: SlackEmulator, user: str, count: int = 1) -> dict:  # type: ignore[type-arg]
    call_message = next(c for c in emulator.calls_to("chat.postMessage")
                        if c.response.get("channel", "") == emulator.workspace.dm_channel(user))
    button = next(e for b in call_message.args["blocks"] for e in b.get("elements", [])
                  if e.get("action_id") == "figures.open")
    slack.block_action(user, "figures.open", button["value"], channel_id=emulator.workspace.dm_channel(user),
                       message_ts=call_message.response["ts"])
    return emulator.wait_for("views.open", count=count)[count - 1].response["view"]  # type: ignore[no-any-return]


def state(view: dict, values: dict[str, str], fill: str | None = "0") -> dict:  # type: ignore[type-arg]
    """The page as submitted: `values`, what the page already showed, and `fill` in every
    other required field (the page's figures are required); `fill=None` leaves them empty."""
    result = {}
    for block in view["blocks"]:
        if block.get("type") == "input":
            key = block["block_id"]
            value = values.get(key, block["element"].get("initial_value", ""))
            if not value and fill is not None and key.startswith("f|") and not block.get("optional"):
                value = fill
            result[key] = {key: {"type": "plain_text_input", "value": value}}
    return result


def field_for(view: dict, metric: str, customer: str | None = None) -> str:  # type: ignore[type-arg]
    for block in view["blocks"]:
        key = block.get("block_id", "")
        if key.startswith(f"f|{metric}|") and (customer is None or customer in block["label"]["text"]):
            return str(key)
    raise AssertionError(f"no field for {metric} {customer}")


def test_dialog_validates_saves_and_keeps_drafts(slack: SlackSender, ctx: AppContext, people: None,
                                                 clock: FixedClock, emulator: SlackEmulator) -> None:
    tick(ctx, clock, at(8))
    view = open_dialog(slack, emulator, LI)
    assert view["callback_id"] == "figures.submit" and view["notify_on_close"] is True
    kpi = field_for(view, "kpi_achievement_rate")
    ppm = field_for(view, "line_defect_ppm")
    label = next(b for b in view["blocks"] if b.get("block_id") == kpi)
    assert "%" in label["hint"]["text"] and "0–100" in label["hint"]["text"]
    wrong = slack.view_submission(LI, view, state(view, {kpi: "150", ppm: "abc"})).json()
    assert wrong["response_action"] == "errors"
    assert "超出有效范围" in wrong["errors"][kpi] and "不是数字" in wrong["errors"][ppm]
    # closing keeps what was typed
    slack.interaction({"type": "view_closed", "user": {"id": LI}, "view": dict(view, state={"values": state(
        view, {kpi: "95", ppm: "1,200"})})})
    with ctx.session() as session:
        draft = session.scalar(select(FigureDraft))
        assert draft is not None and draft.values[kpi] == "95"
    again = open_dialog(slack, emulator, LI, count=2)
    assert next(b for b in again["blocks"] if b.get("block_id") == kpi)["element"]["initial_value"] == "95"
    # a page per customer, its figures required: ACME's page saved, HDQC's comes next
    assert all(not b.get("optional") for b in again["blocks"] if b.get("block_id", "").startswith("f|")
               and "customer_scorecard_pct" not in b["block_id"])
    empty = slack.view_submission(LI, again, state(again, {kpi: "95%", ppm: ""}, fill=None)).json()
    assert "必填" in empty["errors"][ppm]
    saved = slack.view_submission(LI, again, state(again, {kpi: "95%", ppm: "1,200"}))
    assert saved.status == 200 and saved.json()["response_action"] == "update"
    assert "华东汽车" in shown(saved.json()["view"])
    confirmation = emulator.wait_for("chat.postMessage", lambda c: "已记录" in c.args["text"])
    assert "ACME" in shown(confirmation[0].args)
    # the call DM is updated in place: the two figures handed in are no longer shown as missing
    call = next(c for c in emulator.calls_to("chat.postMessage")
                if c.response.get("channel", "") == emulator.workspace.dm_channel(LI))
    updated = emulator.wait_for("chat.update", lambda c: c.args.get("ts") == call.response["ts"])[-1]
    ppm_name = "车厂上线不良率"
    assert ppm_name in shown(call.args)
    assert ppm_name not in shown(updated.args)
    with ctx.session() as session:
        values = {s.metric_key: float(s.value) for s in session.scalars(select(FigureSubmission))}
        assert values["kpi_achievement_rate"] == 95.0 and values["line_defect_ppm"] == 1200.0
        assert {v for k, v in values.items() if k not in ("kpi_achievement_rate", "line_defect_ppm")} == {0.0}
        assert session.scalar(select(FigureDraft)) is None

    # a correction needs a reason and keeps the earlier value
    slack.command("/csat", "figures 2026-09 ACME", LI)
    third = emulator.wait_for("views.open", count=3)[2].response["view"]
    no_reason = slack.view_submission(LI, third, state(third, {kpi: "90"})).json()
    assert set(no_reason["errors"]) == {"reason"}
    assert slack.view_submission(LI, third, state(third, {kpi: "90", "reason": "客户更正了达成率"})).status == 200
    with ctx.session() as session:
        versions = [(float(s.value), s.is_current, s.reason) for s in session.scalars(
            select(FigureSubmission).where(FigureSubmission.metric_key == "kpi_achievement_rate")
            .order_by(FigureSubmission.version))]
    assert versions == [(95.0, False, None), (90.0, True, "客户更正了达成率")]


def test_a_value_far_from_history_needs_a_note(slack: SlackSender, ctx: AppContext, people: None,
                                                clock: FixedClock, emulator: SlackEmulator) -> None:
    from decimal import Decimal

    from bot.datacall.figures import record_figure

    with ctx.session() as session:
        acme = session.scalar(select(Person.id).where(Person.slack_user_id == LI))
        customer_id = session.execute(select(Customer.id).where(
            Customer.owner_id == acme)).scalar_one()
        for month, value in (("2026-04", 100), ("2026-05", 110), ("2026-06", 95), ("2026-07", 105),
                             ("2026-08", 100)):
            record_figure(session, "line_defect_ppm", month, customer_id, Decimal(value), ctx.now(), by=None,
                          source="import")
    tick(ctx, clock, at(8))
    view = open_dialog(slack, emulator, LI)
    ppm = field_for(view, "line_defect_ppm")
    assert "上月：100" in next(b for b in view["blocks"] if b.get("block_id") == ppm)["hint"]["text"]
    odd = slack.view_submission(LI, view, state(view, {ppm: "5000"})).json()
    assert "相差很大" in odd["errors"][ppm]
    assert slack.view_submission(LI, view, state(view, {ppm: "5000", "note": "客户批次异常，已确认"})).status == 200


def test_pages_stay_within_block_kit_limits(slack: SlackSender, ctx: AppContext, people: None, clock: FixedClock,
                                            emulator: SlackEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.datacall.dialog, "FIELDS_PER_PAGE", 4)
    tick(ctx, clock, at(8))
    view = open_dialog(slack, emulator, HUANG)  # 3 costs × 2 customers: one customer per page
    assert view["submit"]["text"] == "保存并下一页"
    first = slack.view_submission(HUANG, view, state(view, {field_for(view, "claim_cost"): "1000"})).json()
    assert first["response_action"] == "update"
    second = first["view"]
    assert "第 2/2 页" in json.dumps(second, ensure_ascii=False) and second["submit"]["text"] == "保存"
    assert len([b for b in second["blocks"] if b.get("block_id", "").startswith("f|")]) == 3


def test_reminders_overdue_posts_and_digest(slack: SlackSender, ctx: AppContext, people: None, clock: FixedClock,
                                            emulator: SlackEmulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tick(ctx, clock, at(8))
    # David hands in everything before the reminders: he is never chased
    with ctx.session() as session:
        duty = next(d for d in obligations(session, "2026-09", dt.date(2026, 10, 8)).values()
                    if d.slack_user_id == DAVID)
        from decimal import Decimal

        from bot.datacall.figures import record_figure

        for item in duty.items:
            record_figure(session, item.metric, "2026-09", item.customer_id, Decimal(1), ctx.now(), by=duty.person_id,
                          source="dialog")
    tick(ctx, clock, at(10))  # the make-up Saturday, two working days before the due date
    tick(ctx, clock, at(13))  # the due date
    assert dms(emulator) == Counter({LI: 3, HUANG: 3, DAVID: 1})
    li_channel = emulator.workspace.dm_channel(LI)
    history = emulator.workspace.history(li_channel)
    assert all(m["thread_ts"] == history[0]["ts"] for m in history[1:])
    assert "提醒" in history[1]["text"] and "截止日" in history[2]["text"]
    tick(ctx, clock, at(14))  # overdue: a DM, one channel post, a digest to each quality engineer
    tick(ctx, clock, at(15))
    assert dms(emulator)[LI] == 4 and dms(emulator)[HUANG] == 4
    posts = [c for c in emulator.calls_to("chat.postMessage") if c.response.get("channel", "") == "C0QUALITY"
             and not c.args["metadata"]["event_payload"]["key"].startswith(("action:", "brief:", "analysis:"))]
    assert len(posts) == 1 and "李强" in shown(posts[0].args)
    updates = emulator.calls_to("chat.update")
    assert [u.args["ts"] for u in updates] == [posts[0].response["ts"]] * 2
    assert dms(emulator)[QE] == 2 and dms(emulator)[QE_EN] == 2
    english_digest = [c for c in emulator.calls_to("chat.postMessage")
                      if c.response.get("channel", "") == emulator.workspace.dm_channel(QE_EN)]
    assert "Daily digest" in english_digest[0].args["text"]
    button = next(e for b in posts[0].args["blocks"] for e in b.get("elements", [])
                  if e.get("action_id") == "view.my_language")
    english = slack.block_action(QE_EN, "view.my_language", button["value"], channel_id="C0QUALITY",
                                 message_ts=posts[0].response["ts"]).answer()
    assert "Overdue figures for 2026-09" in shown(english) and "李强" in shown(english)
    # the post names the people who are late, once: its daily updates notify nobody again
    assert "<@U0SM00001> <@U0FI00001>" in shown(posts[0].args) and "<@U0SM00002>" not in shown(posts[0].args)
    # three working days after the due date a late figure goes to the head of the late person's department,
    # once; 黄蕾's finance department has no head here, and the quality department's head is not told
    from bot.people.directory import import_people

    sales_head = "U0DH00002"
    (tmp_path / "head.csv").write_text("slack_user_id,name,roles,department,locale,email\n"
                                       f"{sales_head},杨帆,department_head,销售部,zh-CN,\n", encoding="utf-8")
    with ctx.session() as session:
        assert import_people(session, tmp_path / "head.csv").ok
    tick(ctx, clock, at(16))
    tick(ctx, clock, at(19))
    escalations = [c for c in emulator.calls_to("chat.postMessage")
                   if c.response.get("channel", "") == emulator.workspace.dm_channel(sales_head)]
    assert len(escalations) == 1 and "<@U0SM00001>" in shown(escalations[0].args)
    assert "3 个工作日" in escalations[0].args["text"] and "李强" in escalations[0].args["text"]
    assert dms(emulator)[MA] == 0


def test_a_deputy_answers_and_the_record_shows_it(slack: SlackSender, ctx: AppContext, people: None,
                                                  clock: FixedClock, emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "deputy <@U0DH00001|ma> finance 2026-10-01 2026-10-31", HUANG).answer()
    assert "代您" in answer["text"]
    with ctx.session() as session:
        assert session.scalar(select(RoleDelegation)) is not None
    tick(ctx, clock, at(8))
    assert dms(emulator) == Counter({LI: 1, DAVID: 1, MA: 1})
    view = open_dialog(slack, emulator, MA)
    assert slack.view_submission(MA, view, state(view, {field_for(view, "claim_cost"): "88"})).status == 200
    with ctx.session() as session:
        figure = session.scalar(select(FigureSubmission))
        people_ids = dict(session.execute(select(Person.slack_user_id, Person.id)).all())
    assert figure is not None
    assert figure.submitted_by_id == people_ids[MA] and figure.on_behalf_of_id == people_ids[HUANG]
    refused = slack.command("/csat", "deputy <@U0SM00001> quality_engineer 2026-10-01 2026-10-31", HUANG).answer()
    assert "不是您的角色" in refused["text"]


def test_a_deputy_is_picked_in_a_dialog(slack: SlackSender, ctx: AppContext, people: None, clock: FixedClock,
                                        emulator: SlackEmulator) -> None:
    clock.set(at(8))
    slack.command("/csat", "deputy", HUANG)
    view = emulator.wait_for("views.open")[0].response["view"]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["deputy"]["type"] == "users_select" and inputs["start"]["initial_date"] == "2026-10-08"
    assert inputs["role"]["initial_option"]["value"] == "finance"  # her only role, chosen for her

    def submitted(start: str, end: str) -> dict:  # type: ignore[type-arg]
        values = {"deputy": {"deputy": {"type": "users_select", "selected_user": MA}},
                  "role": {"role": {"type": "static_select", "selected_option": {"value": "finance"}}},
                  "start": {"start": {"type": "datepicker", "selected_date": start}},
                  "end": {"end": {"type": "datepicker", "selected_date": end}}}
        response = slack.view_submission(HUANG, view, values)
        return response.json() if response.body else {}

    assert set(submitted("2026-10-08", "2026-10-01")["errors"]) == {"end"}
    assert submitted("2026-10-08", "2026-10-31") == {}
    assert submitted("2026-10-08", "2026-10-31") == {}  # the same dialog again records nothing twice
    with ctx.session() as session:
        assert len(session.scalars(select(RoleDelegation)).all()) == 1
    told = emulator.wait_for("chat.postMessage", lambda c: "代您" in c.args.get("text", ""))
    assert len(told) == 1 and "<@U0DH00001>" in shown(told[0].args)


def test_figures_sent_as_a_file_in_a_direct_message(slack: SlackSender, ctx: AppContext, people: None,
                                                     clock: FixedClock, emulator: SlackEmulator) -> None:
    tick(ctx, clock, at(8))

    def send(name: str, content: bytes, event_id: str) -> str:
        slack.event(emulator.share_file(LI, name, content), event_id=event_id)
        answer = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "") == emulator.workspace
                                   .dm_channel(LI) and name in c.args.get("text", ""))
        return shown(answer[-1].args)

    header = "数据项,月份,客户,数值\n"
    theirs = send("mixed.csv", (header + "kpi_achievement_rate,2026-09,ACME,95\nclaim_cost,2026-09,ACME,5\n")
                  .encode(), "EvUpload1")
    assert "没有导入" in theirs and "第 3 行：列 metric，值 'claim_cost'：不是要您填报的数据" in theirs
    with ctx.session() as session:
        assert session.scalar(select(FigureSubmission)) is None  # all or nothing
    mine = send("mine.csv", (header + "kpi_achievement_rate,2026-09,ACME,95\nline_defect_ppm,2026-09,ACME,\n")
                .encode(), "EvUpload2")
    assert "已记录 1 项" in mine and "1 行留空" in mine
    slack.event(emulator.share_file(LI, "mine.csv", b"x"), event_id="EvUpload2")  # Slack delivers it again
    assert "photo.pdf：没有导入。请以 Excel" in send("photo.pdf", b"%PDF", "EvUpload3")
    with ctx.session() as session:
        figure = session.scalar(select(FigureSubmission))
        assert figure is not None and figure.value == 95 and figure.source == "import"
        assert len(session.scalars(select(FigureSubmission)).all()) == 1
    # the form comes from the chat too: his own rows, filled in Excel and sent back
    import io

    import openpyxl

    assert "私信" in slack.command("/csat", "figures form 2026-09", LI).answer()["text"]
    upload = emulator.wait_for("upload")[-1]
    book = openpyxl.load_workbook(io.BytesIO(emulator.workspace.files[upload.args["file_id"]]["content"]))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows and {r[8] for r in rows} == {"李强"}  # only what he is asked for
    for index, row in enumerate(rows, start=2):
        if row[0] == "user_satisfaction":
            sheet.cell(row=index, column=4, value=90)
    buffer = io.BytesIO()
    book.save(buffer)
    assert "已记录 2 项" in send("figures-2026-09.xlsx", buffer.getvalue(), "EvUpload4")


def test_two_schedulers_on_one_database_send_each_message_once(ctx: AppContext, people: None, clock: FixedClock,
                                                               emulator: SlackEmulator, settings, sleeps) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(14))  # after the due date: calls, overdue DMs, channel post and digests all at once
    replicas = [bootstrap(settings, clock=clock, worker=f"replica-{i}", sleep=sleeps) for i in range(2)]
    errors = at_once(lambda replica: run_due(replica, clock.now()), replicas)
    run_due(replicas[0], clock.now() + dt.timedelta(seconds=30))  # what a deferred thread reply waited for
    for replica in replicas:
        replica.engine.dispose()
    assert errors == []
    assert dms(emulator) == Counter({LI: 2, DAVID: 2, HUANG: 2, QE: 1, QE_EN: 1})
    assert len([c for c in emulator.calls_to("chat.postMessage") if c.response.get("channel", "") == "C0QUALITY"]) == 1


def test_a_429_storm_delivers_everything_once(ctx: AppContext, people: None, clock: FixedClock,
                                              emulator: SlackEmulator, sleeps: list[float]) -> None:
    emulator.fail_next("chat.postMessage", status=429, retry_after=30, times=6)  # longer than the client waits
    tick(ctx, clock, at(8))
    assert sum(dms(emulator).values()) < 3
    for minutes in range(1, 6):
        tick(ctx, clock, at(8) + dt.timedelta(minutes=minutes))
    assert dms(emulator) == Counter({LI: 1, DAVID: 1, HUANG: 1})
    assert max(sleeps) < 30  # nothing held a thread asleep for the long Retry-After


def test_status_for_quality_engineers_and_for_everyone(slack: SlackSender, ctx: AppContext, people: None,
                                                       clock: FixedClock, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    clock.set(at(14))
    full = slack.command("/csat", "status 2026-09", QE).answer()
    text = shown(full)
    assert "李强" in text and "黄蕾" in text and "逾期" in text
    own = shown(slack.command("/csat", "status", LI).answer())
    assert "李强" in own and "黄蕾" not in own
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    assert main(["figures", "status", "--month", "2026-09", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["due"] == "2026-10-13" and report["totals"]["people"] == 3
    assert {p["slack_user_id"] for p in report["people"]} == {LI, DAVID, HUANG}
    assert all(p["missing"] for p in report["people"])


def test_app_home_shows_what_i_owe_and_the_matrix(slack: SlackSender, ctx: AppContext, people: None,
                                                  clock: FixedClock, emulator: SlackEmulator) -> None:
    clock.set(at(9))
    slack.event({"type": "app_home_opened", "user": LI, "tab": "home"}, event_id="EvHomeLi")
    slack.event({"type": "app_home_opened", "user": QE, "tab": "home"}, event_id="EvHomeQe")
    emulator.wait_for("views.publish", count=2)
    li = json.dumps(emulator.workspace.homes[LI], ensure_ascii=False)
    qe = json.dumps(emulator.workspace.homes[QE], ensure_ascii=False)
    # the KPI achievement rate is chased now (a forgotten one is not full marks); the customer scorecard is not
    assert "我的数据" in li and "figures.open" in li and "0/11" in li
    assert "2026-09 提交情况" in qe and "黄蕾 · 0/6 · 售后费用, 索赔费用, 退货费用" in qe
    # a quality engineer's home leads with what needs them; a sales manager's with what he owes
    cards = [b["text"]["text"] for b in emulator.workspace.homes[QE]["blocks"] if b["type"] == "header"]
    assert cards[1] == "需要你处理" and "我的数据" not in qe
    assert [b["text"]["text"] for b in emulator.workspace.homes[LI]["blocks"] if b["type"] == "header"][1] == "我的数据"
    assert "提交情况" not in li


def test_a_late_month_is_still_chased_after_the_next_one_opens(ctx: AppContext, people: None, clock: FixedClock,
                                                                emulator: SlackEmulator) -> None:
    tick(ctx, clock, at(8))  # the September call
    tick(ctx, clock, at(17))  # Saturday after the due date: no overdue DM on a day off
    assert dms(emulator)[LI] == 1
    tick(ctx, clock, at(19))  # Monday: the overdue DM
    assert dms(emulator)[LI] == 2
    tick(ctx, clock, at(2, month=11))  # October's call opens; September is still owed
    texts = [c.args["text"] for c in emulator.calls_to("chat.postMessage")
             if c.response.get("channel", "") == emulator.workspace.dm_channel(QE)]
    assert any("2026-09" in t for t in texts[-2:]) and dms(emulator)[LI] == 3  # the digest and October's call
    posts = [c for c in emulator.calls_to("chat.postMessage") if c.response.get("channel", "") == "C0QUALITY"
             and not c.args["metadata"]["event_payload"]["key"].startswith("calendar:")]  # November asks for 2027
    assert len(posts) == 1  # still the one September post, updated


def test_the_december_call_skips_new_years_day_and_says_the_calendar_is_not_loaded(
        ctx: AppContext, people: None, clock: FixedClock, emulator: SlackEmulator) -> None:
    with ctx.session() as session:
        dates = call_dates(WorkingCalendar.load(session), "2026-12", data_call_settings(session))
    assert (dates.opens, dates.due) == (dt.date(2027, 1, 4), dt.date(2027, 1, 8))  # 1 January is a holiday by rule
    tick(ctx, clock, dt.datetime(2027, 1, 1, 9, 30, tzinfo=SHANGHAI))
    assert dms(emulator)[LI] == 0
    tick(ctx, clock, dt.datetime(2027, 1, 4, 9, 30, tzinfo=SHANGHAI))
    call = next(c for c in emulator.calls_to("chat.postMessage")
                if c.response.get("channel", "") == emulator.workspace.dm_channel(LI))
    text = shown(call.args)
    assert "2027-01-08" in call.args["text"] and "2027 年节假日安排尚未导入" in text
