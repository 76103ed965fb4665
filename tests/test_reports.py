"""The procedure's Excel forms, opened again with openpyxl: the monthly evaluation form laid
out as 004 §7.1 lays it out with the score book's numbers, the complaint ledger and the
month's figures; text that looks like a formula stays text; `/csat export` sends the file
to the asker's direct messages; the command line writes it."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from sqlalchemy import select, update

from bot.calendar.working_days import WorkingCalendar
from bot.complaints import intake
from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.settings import Settings
from bot.core.stored_settings import data_call_settings
from bot.core.texts import UserError, score_text
from bot.datacall.figures import import_figures
from bot.datacall.obligations import call_dates
from bot.people.customers import all_customers
from bot.reports.brief import brief_day
from bot.reports.scorecard_form import tenths
from bot.reports.use_cases import make_workbook, report_numbers
from bot.scorecard.book import ScoreBook
from bot.scorecard.events import NewEvent, record_event
from handlers.bootstrap import bootstrap
from handlers.cli import main
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from scheduled.jobs import reports, run_due
from storage.models import Customer, Person
from tests.conftest import NOW, SHANGHAI

QE, QE_EN, SALES = "U0QE00001", "U0QE00002", "U0SM00001"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def opened(content: bytes) -> Workbook:
    return load_workbook(io.BytesIO(content))


def rows(sheet: object) -> list[list[object]]:
    return [[v for v in row] for row in sheet.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_the_monthly_form_is_laid_out_as_the_document_with_the_score_books_numbers(scored: AppContext) -> None:
    with scored.session() as session:
        session.execute(update(Customer).where(Customer.code == "ACME").values(address="上海市嘉定区安亭镇 1 号"))
        acme = session.scalar(select(Customer).where(Customer.code == "ACME"))
        by = session.scalar(select(Person.id).where(Person.slack_user_id == QE))
        assert acme is not None
        record_event(session, NewEvent(acme, dt.date(2026, 9, 20), "packaging_nonconformity", 1, FORMULA, None, None),
                     by, NOW, "slack")
    with scored.session() as session:
        fresh = ScoreBook(session, scored.now(), scored.tz).monthly(all_customers(session), ["2026-09"])
        score = next(s for (cid, _m), s in fresh.items() if s.customer == "ACME")
    book = opened(make_workbook(scored, "scorecard", "zh-CN", "2026-09"))
    assert book.sheetnames[0] == "汇总" and "ACME" in book.sheetnames and "HDQC" in book.sheetnames

    form = book["ACME"]
    assert form["A1"].value == "顾客满意度监测评价表"
    assert (form["A2"].value, form["B2"].value, form["C2"].value, form["D2"].value) == (
        "顾客全称", "艾克美汽车", "顾客地址", "上海市嘉定区安亭镇 1 号")
    assert (form["A3"].value, form["B3"].value) == ("考核时间", "2026年09月")
    assert [c.value for c in form[5]][:5] == ["项目", "配分", "指标及监视评价方法", "得分", "考核人"]
    items = {form.cell(row=r, column=1).value: r for r in range(6, 11)}
    assert list(items) == ["质量表现", "交付表现", "顾客要求的绩效", "顾客积分卡", "总分"]
    for name, category, points in [("质量表现", "quality", 30), ("交付表现", "delivery", 30),
                                   ("顾客要求的绩效", "kpi", 20), ("顾客积分卡", "customer_scorecard", 20)]:
        row = items[name]
        assert form.cell(row=row, column=2).value == points
        cell = form.cell(row=row, column=4)
        assert cell.value == tenths(getattr(score, category)) and cell.number_format == "0.0"
        assert form.cell(row=row, column=5).value == "李强"  # the customer's representative assesses
    method = form.cell(row=items["质量表现"], column=3).value
    assert method.startswith("1. 部分退货/换货") and "每次扣10分" in method  # the document's order and points
    assert "客户不打分时可打满分" in form.cell(row=items["顾客积分卡"], column=3).value
    total = items["总分"]
    assert form.cell(row=total, column=4).value == tenths(score.total) and form.cell(row=total, column=2).value == 100
    assert "等级" in form.cell(row=total, column=3).value
    # the events behind each deduction, one row each, the formula-looking note kept as text
    table = rows(form)
    start = next(i for i, r in enumerate(table) if r[0] == "扣分明细") + 2
    events = [r for r in table[start:] if r[0] is not None]
    assert len(events) == len(score.deductions) >= 3
    assert sum(r[4] for r in events) == pytest.approx(sum(d.points for d in score.deductions))
    noted = next(r for r in events if r[5] == FORMULA)
    assert noted[7] == "王静"
    formula_cell = next(c for row in form.iter_rows() for c in row if c.value == FORMULA)
    assert formula_cell.data_type == "s" and formula_cell.quotePrefix

    summary = rows(book["汇总"])
    assert summary[1][:8] == ["代码", "客户", "质量表现", "交付表现", "顾客要求的绩效", "顾客积分卡", "总分", "等级"]
    by_code = {r[0]: r for r in summary[2:]}
    assert by_code["ACME"][6] == tenths(score.total)
    total_cell = book["汇总"].cell(row=3 + list(by_code).index("ACME"), column=7)
    assert total_cell.data_type == "n" and total_cell.number_format == "0.0"  # a number Excel sums
    assert by_code["HDQC"][2] is None and "未评价" in by_code["HDQC"][9]  # idle: not scored at all
    assert book["汇总"].freeze_panes == "A3" and book["汇总"].auto_filter.ref == "A2:J2"

    english = opened(make_workbook(scored, "scorecard", "en", "2026-09", customer="ACME"))
    assert english.sheetnames == ["Summary", "ACME"]
    assert english["ACME"]["A1"].value == "Customer satisfaction monitoring and evaluation form"
    assert english["ACME"]["B2"].value == "ACME Motors"


def test_the_complaint_ledger_has_every_field_and_deadline_and_keeps_text_as_text(ctx: AppContext,
                                                                                   people: None) -> None:
    received = dt.datetime(2026, 9, 7, 9, 0, tzinfo=SHANGHAI)
    with ctx.session() as session:
        data, errors = intake.validate_complaint(session, {
            "customer": "ACME", "severity": "urgent", "symptom": "+86 刹车异响 @line", "quantity": "5",
            "contact_phone": "13800000000", "received_at": str(int(received.timestamp()))}, NOW)
        assert errors == {} and data is not None
        complaint = intake.log_complaint(session, data, None, received + dt.timedelta(minutes=5), SHANGHAI)
        number = complaint.number
    book = opened(make_workbook(ctx, "complaints", "zh-CN", start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30)))
    sheet = book.active
    assert sheet.title == "客户反馈投诉登记台账" and sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(row=1, column=len(header)).column_letter}1"
    assert {"编号", "客户", "接收时间", "严重度", "故障现象", "状态", "责任判定", "顾客意见"} <= set(header)
    assert "首次答复客户：期限" in header or any(h.endswith("：期限") for h in header)
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["编号"].value == number and row["数量"].value == 5
    assert row["故障现象"].value == "+86 刹车异响 @line" and row["故障现象"].data_type == "s"
    assert row["故障现象"].quotePrefix
    assert row["接收时间"].value == received.replace(tzinfo=None)  # the company's time
    dues = [c.value for h, c in row.items() if h.endswith("：期限")]
    assert len(dues) == 5 and all(isinstance(d, dt.datetime) for d in dues)
    assert sheet.max_row == 2
    # a span that holds no complaint: the header alone
    assert opened(make_workbook(ctx, "complaints", "zh-CN", start=dt.date(2026, 10, 1))).active.max_row == 1


def test_the_months_figures_with_every_version(scored: AppContext, tmp_path: Path) -> None:
    (tmp_path / "again.csv").write_text("metric,month,customer,value\non_time_deliveries,2026-09,ACME,38\n",
                                        encoding="utf-8")
    with scored.session() as session:
        by = session.scalar(select(Person.id).where(Person.slack_user_id == QE))
        assert import_figures(session, tmp_path / "again.csv", NOW + dt.timedelta(hours=1), by=by).ok
    table = rows(opened(make_workbook(scored, "figures", "zh-CN", "2026-09")).active)
    header = table[0]
    deliveries = [dict(zip(header, r, strict=True)) for r in table[1:] if r[1] == "on_time_deliveries"]
    assert [(r["数值"], r["版本"], r["现行版本"]) for r in deliveries] == [(40, 1, None), (38, 2, "是")]
    assert all(r["填报人"] == "王静" for r in deliveries)


def test_export_through_slack_arrives_in_the_direct_messages(slack: SlackSender, scored: AppContext,
                                                             emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "export scorecard 2026-09 ACME", QE).answer()
    assert "私信" in answer["text"]
    upload = emulator.wait_for("files.completeUploadExternal")[0]
    assert upload.args["channel_id"] == emulator.workspace.dm_channel(QE)
    record = emulator.workspace.files[upload.args["files"][0]["id"]]
    assert record["name"].endswith(".xlsx") and "顾客满意度监测评价表" in upload.args["files"][0]["title"]
    assert opened(record["content"]).sheetnames == ["汇总", "ACME"]

    english = slack.command("/csat", "export complaints 2026", QE_EN).answer()
    assert "direct messages" in english["text"]
    assert "Unknown customer 'NOPE'" in slack.command("/csat", "export scorecard 2026-09 NOPE", QE_EN).answer()["text"]
    assert "/csat export scorecard" in slack.command("/csat", "export", QE_EN).answer()["text"]
    refused = slack.command("/csat", "export scorecard 2026-09", SALES).answer()  # report.view: not a sales manager
    assert "export" in refused["text"] and len(emulator.calls_to("files.completeUploadExternal")) == 2


def test_export_from_the_command_line(scored: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CSATBOT_DATABASE_URL", scored.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    target = tmp_path / "评价表.xlsx"
    assert main(["export", "scorecard", "--month", "2026-09", "--xlsx", str(target)]) == 0
    assert "已写入" in capsys.readouterr().out
    assert load_workbook(target).sheetnames[:2] == ["汇总", "ACME"]
    assert main(["export", "figures", "--month", "2026-9", "--xlsx", str(target)]) == 2
    assert main(["export", "complaints", "--from", "2026-02-30", "--xlsx", str(target)]) == 2
    assert main(["export", "complaints", "--xlsx", str(tmp_path / "ledger.csv")]) == 2
    assert main(["export", "scorecard", "--month", "2026-09", "--customer", "NOPE", "--xlsx", str(target)]) == 1
    err = capsys.readouterr().err
    assert "YYYY-MM" in err and "YYYY-MM-DD" in err and ".xlsx" in err and "NOPE" in err
    assert main(["export", "complaints", "--locale", "en", "--xlsx", str(tmp_path / "ledger.xlsx")]) == 0
    assert load_workbook(tmp_path / "ledger.xlsx").active.title == "Complaint ledger"


def test_report_numbers_compose_the_score_book_the_complaints_and_the_actions(
        scored: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    received = dt.datetime(2026, 9, 7, 9, 0, tzinfo=SHANGHAI)
    with scored.session() as session:
        data, errors = intake.validate_complaint(session, {
            "customer": "ACME", "severity": "general", "symptom": "异响",
            "received_at": str(int(received.timestamp()))}, NOW)
        assert errors == {} and data is not None
        intake.log_complaint(session, data, None, received + dt.timedelta(minutes=5), SHANGHAI)
        customers = all_customers(session)
        book = ScoreBook(session, scored.now(), scored.tz)
        september = {s.customer: s.total for s in book.monthly(customers, ["2026-09"]).values()}
        august = {s.customer: s.total for s in book.monthly(customers, ["2026-08"]).values()}
        quarter = book.monthly(customers, ["2026-07", "2026-08", "2026-09"])
        annual = {a.customer: a.annual for a in book.annual(customers, 2026).values() if a.annual is not None}
    month = report_numbers(scored, "month", "2026-09")
    assert month["period"] == "2026-09" and month["customers"] == len(september)
    assert month["mean_score"] == pytest.approx(sum(september.values()) / len(september), abs=0.01)
    assert month["mean_change"] == pytest.approx(month["mean_score"] - sum(august.values()) / len(august), abs=0.02)
    assert month["below_target"] == sorted(code for code, total in september.items() if total < 80)
    assert sum(month["grades"].values()) == len(september)
    assert month["complaints"]["count"] == 1 and set(month["complaints"]["sla"]) >= {"first_response", "close"}
    assert set(month["actions"]) == {"open", "overdue", "opened", "closed"}
    assert isinstance(month["figures_missing"], int)

    q3 = report_numbers(scored, "quarter", "2026q3")
    assert q3["period"] == "2026-Q3" and q3["months"] == ["2026-07", "2026-08", "2026-09"]
    acme = [s.total for s in quarter.values() if s.customer == "ACME"]
    assert ("ACME" in q3["below_target"]) == (sum(acme) / len(acme) < 80)
    year = report_numbers(scored, "review", "2026")
    assert year["customers"] == len(annual) and year["target"] == 80
    assert year["mean_score"] == pytest.approx(sum(annual.values()) / len(annual), abs=0.01)
    with pytest.raises(UserError):
        report_numbers(scored, "quarter", "2026-Q5")

    monkeypatch.setenv("CSATBOT_DATABASE_URL", scored.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    assert main(["report", "month", "2026-09", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == month
    assert main(["report", "month", "2026-09"]) == 0
    shown = capsys.readouterr().out
    assert "2026-09" in shown and "非常满意" in shown
    assert main(["report", "year", "26"]) == 1 and "YYYY" in capsys.readouterr().err


def test_the_monthly_brief_is_posted_once_when_due_with_the_forms_in_its_thread(
        scored: AppContext, settings: Settings, clock: FixedClock, emulator: SlackEmulator) -> None:
    """September ends a quarter: its brief, the quarterly analysis and the complaint
    statistics to the commercial department go out together, once across two schedulers."""
    emulator.workspace.add_channel("C0COMMERCE", "commercial")
    settings.commercial_channel = "C0COMMERCE"
    with scored.session() as session:
        due = call_dates(WorkingCalendar.load(session), "2026-09", data_call_settings(session)).due
        day = brief_day(session, "2026-09")
        before = WorkingCalendar.load(session).nth_working_day_after(due, 1)
    assert before < day
    clock.set(dt.datetime.combine(before, dt.time(10), SHANGHAI))
    assert reports(scored, scored.now()) == 0  # September's figures are due, its brief not yet
    clock.set(dt.datetime.combine(day, dt.time(8), SHANGHAI))
    assert reports(scored, scored.now()) == 0  # not before the hour messages go out
    clock.set(dt.datetime.combine(day, dt.time(10), SHANGHAI))
    other = bootstrap(settings, clock=clock, worker="replica-b", sleep=lambda _s: None)
    assert [reports(scored, scored.now()), reports(other, other.now())] == [3, 0]  # once
    run_due(scored, scored.now())
    run_due(other, other.now())
    quality = emulator.workspace.history("C0QUALITY")
    posts = [m for m in quality if "月度顾客满意度简报" in str(m.get("blocks"))]
    assert len(posts) == 1
    shown = str(posts[0]["blocks"])
    numbers = report_numbers(scored, "month", "2026-09")
    assert score_text(numbers["mean_score"]) in shown and "ACME" in shown and "质量表现 −10" in shown
    replies = [m for m in quality if m.get("thread_ts") == posts[0]["ts"]]
    names = sorted(f["name"] for m in replies for f in m.get("files") or [])
    assert len(names) == 3 and sum(n.endswith(".xlsx") for n in names) == 2  # the heat map and the two forms

    analyses = [m for m in quality if "季度顾客满意度分析 · 2026-Q3" in str(m.get("blocks"))]
    assert len(analyses) == 1
    quarter = report_numbers(scored, "quarter", "2026-Q3")
    assert score_text(quarter["mean_score"]) in str(analyses[0]["blocks"]) and "包装" in str(analyses[0]["blocks"])
    names = [f["name"] for m in quality if m.get("thread_ts") == analyses[0]["ts"] for f in m.get("files") or []]
    assert any(n.startswith("quarterly-analysis-2026-Q3") and n.endswith(".xlsx") for n in names)
    assert sum(n.endswith(".png") for n in names) >= 2  # the mean by month, the grades, the lost points

    commercial = emulator.workspace.history("C0COMMERCE")
    stats = [m for m in commercial if "投诉统计 · 2026-09" in str(m.get("blocks"))]
    assert len(stats) == 1 and "失效模式" not in str(stats[0]["blocks"])  # no complaint in September: no table
    names = [f["name"] for m in commercial if m.get("thread_ts") == stats[0]["ts"] for f in m.get("files") or []]
    assert len(names) == 1 and names[0].startswith("complaint-ledger-2026-09")
    assert reports(scored, scored.now() + dt.timedelta(days=3)) == 0
    other.engine.dispose()


def test_reports_again_when_asked(slack: SlackSender, scored: AppContext, settings: Settings,
                                  emulator: SlackEmulator) -> None:
    answer = slack.command("/csat", "report month 2026-09", QE).answer()
    assert "质量频道" in answer["text"]
    emulator.wait_for("chat.postMessage", lambda c: "月度顾客满意度简报" in str(c.args.get("blocks")))
    assert "Give a month" in slack.command("/csat", "report month ACME", QE_EN).answer()["text"]
    quarter = slack.command("/csat", "report quarter 2026-Q3", QE_EN).answer()
    assert "Quarterly customer satisfaction analysis · 2026-Q3 is posted" in quarter["text"]
    emulator.wait_for("chat.postMessage", lambda c: "2026-Q3" in str(c.args.get("blocks")), timeout=30)
    assert "report" in slack.command("/csat", "report month 2026-09", SALES).answer()["text"]
    assert "YYYY-Q1" in slack.command("/csat", "report quarter Q5", QE_EN).answer()["text"]
    assert "/csat report month" in slack.command("/csat", "report weekly", QE_EN).answer()["text"]

    refused = slack.command("/csat", "report complaints 2026-09", QE_EN).answer()
    assert "CSATBOT_COMMERCIAL_CHANNEL" in refused["text"]  # nowhere to go: said, nothing sent
    emulator.workspace.add_channel("C0COMMERCE", "commercial")
    settings.commercial_channel = "C0COMMERCE"
    posted = slack.command("/csat", "report 投诉 2026", QE).answer()
    assert "商务部频道" in posted["text"]
    emulator.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "C0COMMERCE"
                      and "投诉统计 · 2026" in str(c.args.get("blocks")), timeout=30)

    review = slack.command("/csat", "report review 2026", QE).answer()
    assert "私信" in review["text"]
    emulator.wait_for("files.completeUploadExternal", lambda c: "管理评审" in c.args["files"][0]["title"], count=2,
                      timeout=60)
    uploads = [c for c in emulator.calls_to("files.completeUploadExternal")
               if "管理评审" in c.args["files"][0]["title"]]
    files = {emulator.workspace.files[c.args["files"][0]["id"]]["name"].rsplit(".", 1)[1]:
             emulator.workspace.files[c.args["files"][0]["id"]]["content"] for c in uploads}
    assert set(files) == {"pdf", "xlsx"} and all(c.args["channel_id"] == emulator.workspace.dm_channel(QE)
                                                 for c in uploads)
    assert "顾客满意度管理评审输入" in pdf_text(files["pdf"]) and "客户" in opened(files["xlsx"]).sheetnames


def pdf_text(content: bytes) -> str:
    """The PDF's text layer as a reader copies it, without line breaks and spaces."""
    import pypdfium2

    document = pypdfium2.PdfDocument(content)
    try:
        return "".join("".join(page.get_textpage().get_text_range().split()) for page in document)
    finally:
        document.close()


def test_the_annual_report_composes_the_score_books_annual_scores_and_lost_points(scored: AppContext) -> None:
    from bot.reports.analysis import analyse
    from bot.reports.indicators import report_period

    with scored.session() as session:
        analysis = analyse(session, report_period("year", "2026"), scored.now(), SHANGHAI)
        book = ScoreBook(session, scored.now(), SHANGHAI)
        customers = all_customers(session)
        annual = {customers[cid]: a for cid, a in book.annual(customers, 2026).items() if a.annual is not None}
        monthly = book.monthly(customers, [f"2026-{m:02d}" for m in range(1, 13)])
    lines = {line.code: line for line in analysis.customers}
    assert set(lines) == set(annual) == {"ACME"}
    acme = lines["ACME"]
    assert (acme.score, acme.monthly_mean, acme.survey_score) == (annual["ACME"].annual, annual["ACME"].monthly_mean,
                                                                  annual["ACME"].survey_score)
    assert acme.survey_score == 50 and analysis.surveyed == [acme]
    assert analysis.numbers["mean_score"] == annual["ACME"].annual
    assert acme.below_target == (annual["ACME"].annual < analysis.rules.annual_target)
    assert analysis.numbers["below_target"] == (["ACME"] if acme.below_target else [])
    lost = {row["key"]: row["value"] for row in analysis.lost_by_event}
    taken = [d for score in monthly.values() for d in score.deductions]
    assert lost == {kind: pytest.approx(sum(d.points for d in taken if d.event_type == kind))
                    for kind in ("packaging_nonconformity", "production_stop")}
    assert analysis.lost_by_event[-1]["cumulative_pct"] == 100.0
    scored_months = [m for m, value, _n in analysis.monthly_means if value is not None]
    assert scored_months == [f"2026-{m:02d}" for m in range(1, 10)]


def test_the_management_review_pack_is_a_pdf_with_chinese_text_and_the_workbook_behind_it(
        scored: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import pypdfium2

    monkeypatch.setenv("CSATBOT_DATABASE_URL", scored.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    assert main(["report", "review", "2026", "--out", str(tmp_path / "review")]) == 0
    assert "management-review-2026.pdf" in capsys.readouterr().out
    content = (tmp_path / "review" / "management-review-2026.pdf").read_bytes()
    document = pypdfium2.PdfDocument(content)
    outline = [item.get_title() for item in document.get_toc()]
    pages = len(document)
    document.close()
    assert pages >= 3 and outline[:2] == ["1. 指标", "2. 低于目标的客户"] and outline[-1].endswith("图表")
    shown = pdf_text(content)
    numbers = report_numbers(scored, "review", "2026")
    assert "管理评审" in shown and "目录" in shown and "艾克美" in shown
    assert score_text(numbers["mean_score"]) in shown
    assert b"/FontFile" in content  # the font travels with the file: it prints the same anywhere
    book = opened((tmp_path / "review" / "management-review-2026.xlsx").read_bytes())
    sheet = book["客户"]
    table = rows(sheet)
    header = table[0]
    acme = dict(zip(header, next(r for r in table[1:] if r[0] == "ACME"), strict=True))
    with scored.session() as session:
        customers = all_customers(session)
        annual = ScoreBook(session, scored.now(), SHANGHAI).annual(customers, 2026)
    expected = next(a for a in annual.values() if a.customer == "ACME")
    assert (acme["得分"], acme["月度平均"], acme["满意度调查"]) == (expected.annual, expected.monthly_mean, 50)
    with scored.session() as session:
        september = ScoreBook(session, scored.now(), SHANGHAI).monthly(
            {k: v for k, v in customers.items() if v == "ACME"}, ["2026-09"])
    assert acme["2026-09"] == next(iter(september.values())).total
    assert main(["report", "month", "2026-09", "--out", str(tmp_path)]) == 2 and "--out" in capsys.readouterr().err
    assert main(["report", "quarter", "2026-Q3", "--out", str(tmp_path / "q"), "--locale", "en"]) == 0
    english = pdf_text((tmp_path / "q" / "quarterly-analysis-2026-Q3.pdf").read_bytes())
    assert "Quarterlycustomersatisfactionanalysis" in english and "ACME" in english


def test_failure_modes_come_from_the_symptom_by_the_configured_words() -> None:
    from bot.complaints.statistics import failure_mode
    from bot.core.stored_settings import load_defaults

    modes = load_defaults()["complaints"]["failure_modes"]
    assert failure_mode("车门异响", modes) == "noise"
    assert failure_mode("Connector pin BENT on arrival", modes) == "signal"  # the first mode that matches
    assert failure_mode("Label missing on 3 cartons", modes) == "packaging"
    assert failure_mode("客户说不清楚", modes) == "unknown"
    assert failure_mode("", [{"key": "x", "words": ["外观"]}]) == "unknown"
