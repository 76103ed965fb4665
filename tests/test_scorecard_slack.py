"""Scorecards through the real App over HTTP: /csat customer|overview|metric|event, the
buttons on the answers, the event dialog with its errors, and the charts."""

from __future__ import annotations

import json
import warnings

from sqlalchemy import select

from bot.core.context import AppContext
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, shown, validate_blocks
from storage.models import ScorecardEvent

QE, QE_EN, SALES, FINANCE, HEAD = "U0QE00001", "U0QE00002", "U0SM00001", "U0FI00001", "U0DH00001"


def text_of(message: dict) -> str:  # type: ignore[type-arg]
    return shown(message)


def buttons(blocks: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    found = {}
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found.setdefault(element["action_id"], element)
    return found


def test_customer_card_in_a_channel(slack: SlackSender, scored: AppContext, emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "customer ACME 2026-09", QE).answer()
    assert answer["response_type"] == "ephemeral" and validate_blocks(answer["blocks"]) == []
    text = text_of(answer)
    assert "艾克美汽车" in text and "79" in text and "一般" in text
    assert "顾客要求的绩效" in text and "达成率 75%" in text and "顾客评分 80%" in text
    assert "王静" in text and "−10" in text  # the production stop and who entered it
    assert "索赔费用" in text  # quality engineers see costs
    assert "&lt;!channel&gt;" not in text or "<!channel>" not in text
    assert {"csat.share", "csat.record_event", "csat.correct_event"} <= set(buttons(answer["blocks"]))
    assert "私信" in text
    uploads = emulator.wait_for("files.completeUploadExternal")
    dm = emulator.workspace.dm_channel(QE)
    assert uploads[0].args["channel_id"] == dm
    file_id = uploads[0].args["files"][0]["id"]
    assert emulator.workspace.files[file_id]["content"].startswith(b"\x89PNG")
    assert "13" in uploads[0].args["files"][0]["title"]


def test_what_lost_the_points_of_a_month_as_a_chart(slack: SlackSender, scored: AppContext,
                                                    emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "customer ACME 2026-09", QE_EN).answer()
    pressed = buttons(answer["blocks"])["csat.breakdown"]
    told = slack.block_action(QE_EN, "csat.breakdown", pressed["value"], channel_id="C0GENERAL",
                              message_ts="1.1").answer()
    assert "Quality performance −10" in told["text"] and "Customer scorecard −4" in told["text"]
    assert "what lost the points in 2026-09" in text_of(told) and "direct messages" in text_of(told)
    uploads = emulator.wait_for("files.completeUploadExternal",
                                lambda c: "what lost the points" in c.args["files"][0]["title"])
    assert uploads[0].args["channel_id"] == emulator.workspace.dm_channel(QE_EN)
    assert emulator.workspace.files[uploads[0].args["files"][0]["id"]]["content"].startswith(b"\x89PNG")
    idle = slack.block_action(QE_EN, "csat.breakdown", '{"code": "HDQC", "period": "2026-09"}',
                              channel_id="C0GENERAL", message_ts="1.1").answer()
    assert "not evaluated" in idle["text"]
    forged = slack.block_action(QE_EN, "csat.breakdown", '{"code": "ACME", "period": "09/2026"}',
                                channel_id="C0GENERAL", message_ts="1.1").answer()
    assert "YYYY-MM" in forged["text"]


def test_costs_only_for_entitled_roles(slack: SlackSender, scored: AppContext) -> None:
    sales = text_of(slack.command("/csat", "customer ACME 2026-09", SALES).answer())
    finance = text_of(slack.command("/csat", "customer ACME 2026-09", FINANCE).answer())
    assert "索赔费用" not in sales and "12,345.50" not in sales
    assert "索赔费用" in finance and "12,345.50" in finance
    refused = slack.command("/csat", "metric claim_cost 2026", SALES).answer()
    assert "财务" in refused["text"]


def test_english_reader_and_the_year_view(slack: SlackSender, scored: AppContext) -> None:
    answer = slack.command("/csat", "customer ACME 2026", QE_EN).answer()
    text = text_of(answer)
    assert "ACME Motors" in text and "Annual score" in text and "weight 50%" in text
    assert "9 month(s) evaluated" in text


def test_several_matches_give_buttons_and_picking_answers(slack: SlackSender, scored: AppContext,
                                                          emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "customer 汽车 2026-09", QE).answer()
    picks = [e for b in answer["blocks"] for e in b.get("elements", []) if e.get("action_id") == "csat.pick_customer"]
    assert len(picks) == 2
    acme = next(p for p in picks if json.loads(p["value"])["code"] == "ACME")
    picked = slack.block_action(QE, "csat.pick_customer", acme["value"], channel_id="C0GENERAL", message_ts="1.1")
    assert picked.status == 200
    reply = picked.answer()
    assert reply["replace_original"] is True
    assert "79" in text_of(reply)
    emulator.wait_for("files.completeUploadExternal")


def test_no_match_suggests_the_closest(slack: SlackSender, scored: AppContext) -> None:
    answer = slack.command("/csat", "customer ACME Motor Co", QE_EN).answer()
    assert "No customer matches" in answer["text"]
    assert "ACME" in text_of(answer)
    bad_period = slack.command("/csat", "customer ACME 2026-13", QE_EN).answer()
    assert bad_period["text"] == "'2026-13' is not a month (YYYY-MM) or a year (YYYY)."


def test_share_posts_to_the_channel_without_costs(slack: SlackSender, scored: AppContext,
                                                  emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "customer ACME 2026-09", FINANCE).answer()
    share = buttons(answer["blocks"])["csat.share"]
    shared = slack.block_action(FINANCE, "csat.share", share["value"], channel_id="C0GENERAL", message_ts="1.1")
    posts = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "") == "C0GENERAL")
    posted = text_of(posts[0].args)
    assert "79" in posted and "索赔费用" not in posted and "由 黄蕾 分享" in posted
    assert "csat.share" not in posted
    uploads = emulator.wait_for("files.completeUploadExternal", lambda c: c.args.get("channel_id") == "C0GENERAL")
    assert uploads[0].args["thread_ts"] == posts[0].response["ts"]
    assert "已分享" in json.dumps(shared.answer(), ensure_ascii=False)


def test_overview_ranks_and_draws_the_heat_map(slack: SlackSender, scored: AppContext,
                                               emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "overview 2026-09", QE).answer()
    text = text_of(answer)
    assert "顾客满意度总览" in text and "1 / 2" in text and "低于目标" in text
    # on 8 October September's figures are still coming in (due the 13th): it says so
    assert "进行中" in text and "2026-10-13" in text and "1 / 2" in text
    emulator.wait_for("files.completeUploadExternal")
    # and without a month the overview is of August, the last month whose figures are due
    default = text_of(slack.command("/csat", "overview", QE).answer())
    assert "2026-08" in default and "进行中" not in default


def test_metric_trend_with_control_limits(slack: SlackSender, scored: AppContext, emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "metric kpi_achievement_rate 2026 ACME", QE_EN).answer()
    text = text_of(answer)
    assert "Natural process limits" in text and "2026-09" in text
    emulator.wait_for("files.completeUploadExternal")
    unknown = slack.command("/csat", "metric nonsense", QE_EN).answer()
    assert "No figure is called 'nonsense'" in unknown["text"] and "line_fpy" in text_of(unknown)
    by_name = slack.command("/csat", "metric 索赔 2026", QE).answer()  # part of a Chinese name
    assert "索赔费用" in text_of(by_name) and "2026" in text_of(by_name)
    english = text_of(slack.command("/csat", "metric On-time deliveries 2026 ACME", QE_EN).answer())
    assert "On-time deliveries" in english and "Natural process limits" in english
    several = slack.command("/csat", "metric 满意度", QE).answer()
    assert "多项数据" in several["text"]
    assert "user_satisfaction" in text_of(several) and "line_fpy" not in text_of(several)
    listing = text_of(slack.command("/csat", "metric", QE_EN).answer())
    assert "kpi_achievement_rate" in listing and "Claim cost" in listing


def test_event_dialog_validates_saves_and_corrects(slack: SlackSender, scored: AppContext, emulator: SlackEmulator,
                                                   ctx: AppContext) -> None:
    opened = slack.command("/csat", "event ACME", SALES)
    assert opened.status == 200
    view = emulator.wait_for("views.open")[0].response["view"]
    assert view["callback_id"] == "scorecard.event"
    type_select = next(b for b in view["blocks"] if b.get("block_id") == "type")["element"]
    assert [g["label"]["text"] for g in type_select["option_groups"]] == ["质量表现", "交付表现"]
    options = slack.options(SALES, "customer", "华东", view).json()
    assert [o["value"] for o in options["options"]] == ["HDQC"]

    def values(date: str, count: str, complaint: str = "", reason: str | None = None) -> dict:  # type: ignore[type-arg]
        state = {
            "customer": {"customer": {"type": "external_select", "selected_option": {"value": "ACME"}}},
            "date": {"date": {"type": "datepicker", "selected_date": date}},
            "type": {"type": {"type": "static_select", "selected_option": {"value": "line_hold"}}},
            "count": {"count": {"type": "number_input", "value": count}},
            "note": {"note": {"type": "plain_text_input", "value": "整车侯检 <@U0BOSS001>"}},
            "complaint": {"complaint": {"type": "plain_text_input", "value": complaint}},
        }
        if reason is not None:
            state["reason"] = {"reason": {"type": "plain_text_input", "value": reason}}
        return state

    rejected = slack.view_submission(SALES, view, values("2027-01-01", "0", "KS-1999-0001")).json()
    assert rejected["response_action"] == "errors"
    assert set(rejected["errors"]) == {"date", "count", "complaint"}
    assert "整数" in rejected["errors"]["count"]
    accepted = slack.view_submission(SALES, view, values("2026-10-08", "1"))
    assert accepted.status == 200 and accepted.body == ""
    confirmation = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "").startswith("D"))
    assert "整车侯检、停止出货" in confirmation[0].args["text"]
    with ctx.session() as session:
        event = session.scalar(select(ScorecardEvent).where(ScorecardEvent.event_date.isnot(None),
                                                            ScorecardEvent.source == "dialog"))
        assert event is not None and event.count == 1
        event_id = event.id

    # correct it from the customer card: a reason is required, the earlier version stays
    slack.block_action(SALES, "csat.correct_event", str(event_id), channel_id="C0GENERAL", message_ts="1.1")
    correction = emulator.wait_for("views.open", count=2)[1].response["view"]
    assert any(b.get("block_id") == "reason" for b in correction["blocks"])
    missing_reason = slack.view_submission(SALES, correction, values("2026-10-08", "2", reason="")).json()
    assert set(missing_reason["errors"]) == {"reason"}
    assert slack.view_submission(SALES, correction, values("2026-10-08", "2", reason="客户补充通知")).status == 200
    with ctx.session() as session:
        versions = list(session.scalars(select(ScorecardEvent).where(ScorecardEvent.source == "dialog")
                                        .order_by(ScorecardEvent.id)))
    assert [(v.count, v.is_current) for v in versions] == [(1, False), (2, True)]
    assert versions[1].supersedes_id == versions[0].id and versions[1].reason == "客户补充通知"


def test_roles_guard_event_entry(slack: SlackSender, scored: AppContext) -> None:
    refused = slack.command("/csat", "event ACME", FINANCE).answer()
    assert "无权" in refused["text"]


def test_charts_render_chinese_without_missing_glyphs() -> None:
    from bot.core import charts

    bands = [charts.Band("very_satisfied", "非常满意", 90, 100), charts.Band("unsatisfied", "不满意", 0, 90)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = charts.trend_chart("华东汽车 满意度趋势", ["2026-01", "2026-02"], [91.5, None], 80, bands, "目标",
                                 "月度得分")
        heat = charts.heatmap_chart("客户 × 月份", ["华东汽车", "艾克美"], ["2026-01"], [[95], [None]], bands)
        xmr = charts.xmr_chart("直通率", ["2026-01", "2026-02", "2026-03"], [97.0, 98.0, 96.5], 97.2, 99.0, 95.4, 98,
                               [], {"value": "直通率", "mean": "均值", "limits": "控制限", "target": "目标"})
    assert all(p.startswith(b"\x89PNG") for p in (png, heat, xmr))


def test_chart_labels_are_cut_visibly_by_the_width_they_take() -> None:
    from bot.core import charts

    assert charts.short_label("C0032 Dongfang New Energy Vehicles") == "C0032 Dongfang New Energy…"
    assert charts.short_label("C0032 东方新能源汽车有限公司股份") == "C0032 东方新能源汽车有限公…"  # 2 columns each
    assert charts.short_label("C0001 华东汽车") == "C0001 华东汽车"
    bands = [charts.Band("very_satisfied", "非常满意", 90, 100), charts.Band("unsatisfied", "不满意", 0, 90)]
    grades = charts.grade_distribution_chart("等级分布", ["2026-01", "2026-02"], bands,
                                             [{"very_satisfied": 3, "unsatisfied": 1}, {"very_satisfied": 4}], "客户")
    assert grades.startswith(b"\x89PNG")


def test_overview_and_metric_answers_can_be_shared(slack: SlackSender, scored: AppContext,
                                                  emulator: SlackEmulator) -> None:
    overview = slack.command("/csat", "overview 2026-09", QE, channel_id="C0GENERAL").answer()
    share = buttons(overview["blocks"])["csat.share"]
    slack.block_action(QE, "csat.share", share["value"], channel_id="C0GENERAL", message_ts="1.1")
    posts = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "") == "C0GENERAL")
    assert "顾客满意度总览" in shown(posts[0].args)
    metric = slack.command("/csat", "metric line_fpy 2026", QE, channel_id="C0GENERAL").answer()
    assert "csat.share" in buttons(metric["blocks"])
    costs = slack.command("/csat", "metric claim_cost 2026", QE, channel_id="C0GENERAL").answer()
    assert "csat.share" not in buttons(costs["blocks"])  # costs stay with the roles entitled to them


def test_management_home_leads_with_the_month_at_a_glance(slack: SlackSender, scored: AppContext,
                                                         emulator: SlackEmulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.people.directory import import_people

    (tmp_path / "boss.csv").write_text("slack_user_id,name,roles,department,locale,email\n"
                                       "U0MG00001,陈总,management,总经办,zh-CN,\n", encoding="utf-8")
    with scored.session() as session:
        assert import_people(session, tmp_path / "boss.csv").ok
    slack.event({"type": "app_home_opened", "user": "U0MG00001", "tab": "home"}, event_id="EvHomeBoss")
    emulator.wait_for("views.publish")
    home = emulator.workspace.homes["U0MG00001"]
    headers = [b["text"]["text"] for b in home["blocks"] if b["type"] == "header"]
    assert headers[1] == "2026-08 概览"  # the last month whose figures are due
    text = json.dumps(home, ensure_ascii=False)
    assert "平均分" in text and "投诉超期" in text and "纠正措施超期" in text
    assert "HDQC" not in text  # not scored in August: no figures, not below target
