"""Asking customers: contacts imported, a survey's sample drawn reproducibly, the owners sent
each contact's personal link on the opening day and reminded of who has not answered, and the
questionnaire answered once on its web page (inline errors, nothing typed lost), the owner
told with a thank-you to send, and a point rated 1–2 opening a corrective action."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.surveys.invitations import draw, invite
from handlers.cli import main
from handlers.server import BackgroundServer
from handlers.testing.slack_emulator import SlackEmulator
from scheduled.jobs import surveys
from storage.models import CorrectiveAction, CustomerContact, SurveyCampaign, SurveyInvitation
from tests.conftest import SHANGHAI

LI, MILLER = "U0SM00001", "U0SM00002"
CONTACTS = """客户,姓名,电话,邮箱,职务,语言
ACME,王工,13800000001,wang@acme.example,采购,zh-CN
ACME,赵工,13800000002,,质量,zh-CN
ACME,钱工,13800000003,,生产,
HDQC,Li Na,13900000001,li@hdqc.example,Purchasing,en
"""


def fetch(url: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def cli(ctx: AppContext, people: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppContext:
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    sheet = tmp_path / "contacts.csv"
    sheet.write_text(CONTACTS, encoding="utf-8")
    assert main(["import", "contacts", str(sheet)]) == 0
    return ctx


def test_contacts_import_all_or_nothing(cli: AppContext, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,name,email,language\nACMF,孙工,,\nACME,,x@y,\nACME,孙工,not-mail,fr\n"
                   "ACME,王工,,\nACME,王工,,\n", encoding="utf-8")
    assert main(["import", "contacts", str(bad)]) == 1
    said = capsys.readouterr().err
    assert "value 'ACMF'" in said and "Did you mean 'ACME'?" in said and "a contact needs a name" in said
    assert "not an e-mail address" in said and "value 'fr'" in said and "row 5 already" in said
    with cli.session() as session:
        assert session.scalar(select(CustomerContact).where(CustomerContact.name == "孙工")) is None
    assert main(["import", "contacts", str(Path(tmp_path / "contacts.csv"))]) == 0
    assert "0 new, 4 updated" in capsys.readouterr().out
    assert main(["contacts", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed] == ["王工", "赵工", "钱工", "Li Na"] or len(listed) == 4


def test_the_monthly_sample_is_reproducible_and_moves_on(cli: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()

    def new(opens: str, closes: str, seed: str) -> dict:  # type: ignore[type-arg]
        assert main(["survey", "new", "--kind", "monthly_phone", "--opens", opens, "--closes", closes, "--seed",
                     seed, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    october = new("2026-10-01", "2026-10-31", "7")
    assert october["sample_seed"] == 7 and october["sample_per_customer"] == 1 and october["method"] == "phone"
    asked = {i["customer"]: i["contact"] for i in october["invited"]}
    assert set(asked) == {"ACME", "HDQC"} and asked["HDQC"] == "Li Na"
    with cli.session() as session:  # the same seed and the same contacts draw the same sample again
        campaign = session.get(SurveyCampaign, october["id"])
        session.execute(delete(SurveyInvitation).where(SurveyInvitation.campaign_id == campaign.id))
        invite(session, campaign, cli.now())
        again = {i.customer.code: i.contact.name for i in session.scalars(
            select(SurveyInvitation).where(SurveyInvitation.campaign_id == campaign.id))}
    assert again == asked
    for seed in ("7", "8", "9"):  # never the same ACME contact two months running while others are left
        month = 11 + int(seed) - 7
        drawn = new(f"2026-{month:02d}-01" if month <= 12 else "2027-01-01",
                    f"2026-{month:02d}-28" if month <= 12 else "2027-01-28", seed)
        now = {i["customer"]: i["contact"] for i in drawn["invited"]}
        assert now["ACME"] != asked["ACME"] and now["HDQC"] == "Li Na"  # HDQC has no other contact
        asked = now
    pool = [CustomerContact(id=n, name=str(n)) for n in range(1, 6)]
    assert [c.id for c in draw(pool, 2, random.Random(3), {1, 2, 3, 4})] in ([5, 1], [1, 5], [2, 5], [3, 5],
                                                                              [4, 5])


def test_a_personal_link_answered_once(cli: AppContext, emulator: SlackEmulator, clock: FixedClock,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from handlers.bootstrap import RunningBot

    capsys.readouterr()
    running = RunningBot(cli, scheduler=False, lazy_workers=2)
    server: BackgroundServer = running.serve_in_background(threads=2)
    cli.settings.public_url = server.url
    try:
        assert main(["survey", "new", "--kind", "quarterly", "--opens", "2026-10-09", "--closes", "2026-10-20",
                     "--json"]) == 0
        survey = json.loads(capsys.readouterr().out)
        assert survey["invitations"] == 4 and survey["method"] == "questionnaire"

        def dms(user: str) -> list[dict]:  # type: ignore[type-arg]
            channel = emulator.workspace.dm_channel(user)
            return [c.args for c in emulator.calls_to("chat.postMessage") if c.response.get("channel") == channel]

        def run(day: int, hour: int = 10) -> None:
            when = dt.datetime(2026, 10, day, hour, tzinfo=SHANGHAI)
            clock.set(when)
            surveys(cli, when)
            cli.deliverer.deliver_due(when)

        run(8)  # before it opens: nothing
        assert dms(LI) == []
        run(9, 8)  # before the hour the company sends from
        assert dms(LI) == []
        run(9)
        run(9)
        links = dms(LI)
        text = json.dumps(links, ensure_ascii=False)
        assert len(links) == 1 and "王工" in text
        found = re.findall(re.escape(server.url) + r"/survey/[0-9]+-[A-Za-z0-9_-]+", text)
        assert len(found) == 3 and "13800000001" in text  # ACME's three contacts, each their own link
        assert len(dms(MILLER)) == 1 and "Li Na" in json.dumps(dms(MILLER))
        link = found[0]

        status, html = fetch(link)
        assert status == 200 and "产品质量符合要求" in html and 'name="rating:pq_conformity"' in html
        assert 'lang="zh-CN"' in html and "?lang=en" in html
        assert "English" in html and "Send my answers" not in html
        status, english = fetch(link + "?lang=en")
        assert status == 200 and "The product meets the requirements" in english
        forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        assert fetch(forged)[0] == 404 and fetch(server.url + "/survey/x")[0] == 404
        assert fetch(server.url + "/survey/99999-abc")[0] == 404

        answers = {f"rating:{key}": "4" for key in ("pq_conformity", "pq_stability", "sv_response", "sv_technical",
                                                  "pr_value", "br_reputation", "ch_speed", "ch_effect")}
        answers["importance:pq_conformity"] = "5"
        answers["comment"] = "交货 <b>再快</b> 一点"
        status, html = fetch(link, answers)  # two items not rated: both marked, nothing chosen lost
        assert status == 422 and html.count('class="error"') == 2 and "需要修改" in html
        assert 'value="5" checked' in html and "&lt;b&gt;再快&lt;/b&gt;" in html
        answers.update({"rating:dl_on_time": "1", "rating:sy_process": "9"})
        status, html = fetch(link, answers)
        assert status == 422 and html.count('class="error"') == 1
        answers["rating:sy_process"] = "5"
        status, html = fetch(link, answers)
        assert status == 200 and "感谢" in html and "data-answered" in html
        status, html = fetch(link, answers)  # sent twice: recorded once
        assert status == 200 and "此问卷已于" in html
        assert fetch(link)[0] == 200 and "data-answered" in fetch(link)[1]

        told = emulator.wait_for("chat.postMessage", lambda c: "answered the survey" in json.dumps(c.args) or
                                 "填写了" in json.dumps(c.args, ensure_ascii=False))
        shown = json.dumps(told[0].args, ensure_ascii=False)
        assert "感谢" in shown and "纠正措施" in shown  # the thank-you in the customer's language; the action
        with cli.session() as session:
            actions = list(session.scalars(select(CorrectiveAction).where(
                CorrectiveAction.trigger_kind == "survey_point")))
            assert len(actions) == 1 and actions[0].area == "delivery" and actions[0].customer_id is not None
            assert actions[0].trigger_detail["rating"] == 1 and "再快" in actions[0].trigger_detail["comment"]

        results = json.loads((main(["survey", "results", str(survey["id"]), "--json"]), capsys.readouterr().out)[1])
        assert results["customers"][0]["code"] == "ACME" and results["customers"][0]["responses"] == 1

        run(12)  # 10-10 is a working Saturday, 10-12 the second working day after: a reminder of the other two
        reminders = [m for m in dms(LI) if "have not answered" in json.dumps(m) or "尚未" in json.dumps(
            m, ensure_ascii=False)]
        assert len(reminders) == 1
        reminded = json.dumps(reminders, ensure_ascii=False)
        assert "赵工" in reminded and "钱工" in reminded and "王工" not in reminded
        run(12)
        assert len(dms(LI)) == len(links) + 2  # the answer, the reminder; nothing twice

        clock.set(dt.datetime(2026, 10, 21, 10, tzinfo=SHANGHAI))
        assert fetch(found[1])[0] == 410  # closed: the link has expired
    finally:
        server.stop()
        running.stop()


def _fill(content: bytes, ratings: dict[int, object], comment: str = "", respondent: str | None = None) -> bytes:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    for row, value in ratings.items():
        sheet.cell(row=row, column=4, value=value)
    if respondent is not None:
        sheet["B4"] = respondent
    if comment:
        sheet.cell(row=int(book["csatbot"]["A2"].value), column=1, value=comment)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_excel_questionnaire_round_trip(cli: AppContext, slack, emulator: SlackEmulator, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import io

    import openpyxl

    from handlers.testing.slack_emulator import shown

    capsys.readouterr()
    assert main(["survey", "new", "--kind", "half_year", "--opens", "2026-10-01", "--closes", "2026-10-30",
                 "--json"]) == 0
    sid = str(json.loads(capsys.readouterr().out)["id"])
    assert main(["survey", "questionnaires", sid, "--out", str(tmp_path / "forms")]) == 0
    assert "4 questionnaire(s)" in capsys.readouterr().out
    made = sorted((tmp_path / "forms").iterdir())
    assert [p.name for p in made][0].startswith("half_year-2026-10-01-ACME-")
    book = openpyxl.load_workbook(made[0])
    sheet = book.worksheets[0]
    assert sheet.protection.sheet and book["csatbot"].sheet_state == "veryHidden"
    assert sheet["D7"].protection.locked is False and sheet["C7"].protection.locked is True
    assert sheet.column_dimensions["H"].hidden and sheet["H7"].value == "pq_conformity"
    assert any("D7" in str(v.sqref) for v in sheet.data_validations.dataValidation)

    # the customer's owner has it from the chat too, and sends it back filled there
    answer = slack.command("/csat", "survey form " + sid + " HDQC", "U0FI00001").answer()
    assert "Only the customer's owner" in answer["text"] or "只有" in answer["text"]
    assert "1 questionnaire" in slack.command("/csat", "survey form " + sid + " HDQC", MILLER).answer()["text"]
    upload = emulator.wait_for("upload")[-1]
    content = emulator.workspace.files[upload.args["file_id"]]["content"]
    assert "The product meets the requirements" in str(openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]["C7"]
                                                        .value)  # Li Na reads English

    def send(name: str, data: bytes, event: str) -> str:
        slack.event(emulator.share_file(MILLER, name, data), event_id=event)
        told = emulator.wait_for("chat.postMessage", lambda c: c.response.get("channel", "") == emulator.workspace
                                 .dm_channel(MILLER) and name in json.dumps(c.args, ensure_ascii=False))
        return shown(told[-1].args)

    half = _fill(content, {7: 5, 8: 4, 9: "x"})
    said = send("half.xlsx", half, "EvQ1")
    assert "Nothing was recorded" in said and "Row 9: the rating 'x'" in said
    assert "rows 10, 11, 12, 13, 14, 15, 16 have no rating" in said or "row(s) 10, 11, 12, 13, 14, 15, 16" in said
    moved = openpyxl.load_workbook(io.BytesIO(_fill(content, dict.fromkeys(range(7, 17), 4))))
    moved.worksheets[0]["H8"] = "pq_conformity"
    buffer = io.BytesIO()
    moved.save(buffer)
    assert "Row 8: this is not the item" in send("moved.xlsx", buffer.getvalue(), "EvQ2")
    forged = openpyxl.load_workbook(io.BytesIO(_fill(content, dict.fromkeys(range(7, 17), 4))))
    key = str(forged["csatbot"]["A1"].value)
    forged["csatbot"]["A1"] = key.split("-")[0] + "-" + "A" * 24
    buffer = io.BytesIO()
    forged.save(buffer)
    assert "not one of ours" in send("forged.xlsx", buffer.getvalue(), "EvQ3")
    with cli.session() as session:
        assert session.scalars(select(SurveyInvitation).where(SurveyInvitation.answered_at.is_not(None))).all() == []
    full = _fill(content, {**dict.fromkeys(range(7, 17), 4), 16: 2}, comment="=cmd 价格再低一点")
    said = send("filled.xlsx", full, "EvQ4")
    assert "Recorded for survey" in said and "Li Na, 10 ratings" in said and "1 point(s) rated 1–2" in said
    slack.event(emulator.share_file(MILLER, "filled.xlsx", full), event_id="EvQ4")  # Slack delivers it again
    said = send("again.xlsx", _fill(content, dict.fromkeys(range(7, 17), 5)), "EvQ5")
    assert "It replaces the answer sent before" in said
    results = json.loads((main(["survey", "results", sid, "--json"]), capsys.readouterr().out)[1])
    hdqc = next(c for c in results["customers"] if c["code"] == "HDQC")
    assert hdqc["responses"] == 1 and hdqc["csi"] == 100.0
    # the command line takes them too; a file that is not a workbook is refused by name
    acme = made[0]
    acme.write_bytes(_fill(acme.read_bytes(), dict.fromkeys(range(7, 17), 3)))
    (tmp_path / "note.xlsx").write_bytes(b"not a workbook")
    assert main(["survey", "import", str(acme), str(tmp_path / "note.xlsx")]) == 1
    printed = capsys.readouterr()
    assert "Recorded for survey" in printed.out and "not an Excel (.xlsx) file" in printed.err
    assert main(["survey", "close", sid]) == 0
    assert "closed" in (main(["survey", "import", str(acme)]), capsys.readouterr().err)[1]


def test_a_phone_survey_is_a_call_list_for_the_reps(cli: AppContext, slack, emulator: SlackEmulator,  # type: ignore[no-untyped-def]
                                                   clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["survey", "new", "--kind", "monthly_phone", "--opens", "2026-10-09", "--closes", "2026-10-30",
                 "--seed", "3", "--json"]) == 0
    survey = json.loads(capsys.readouterr().out)
    asked = {i["customer"]: i["contact"] for i in survey["invited"]}

    def calls() -> list[dict]:  # type: ignore[type-arg]
        channel = emulator.workspace.dm_channel(LI)  # 李强 is the company's customer-service rep
        return [c.args for c in emulator.calls_to("chat.postMessage") if c.response.get("channel") == channel
                and "survey.call" in json.dumps(c.args)]

    def run(day: int) -> None:
        when = dt.datetime(2026, 10, day, 10, tzinfo=SHANGHAI)
        clock.set(when)
        surveys(cli, when)
        cli.deliverer.deliver_due(when)

    run(9)
    run(9)
    listed = calls()
    assert len(listed) == 1 and asked["ACME"] in json.dumps(listed, ensure_ascii=False)
    assert not [c for c in emulator.calls_to("chat.postMessage") if c.response.get("channel") ==
                emulator.workspace.dm_channel(MILLER)]  # owners are not asked to forward links for a phone survey
    buttons = [e for b in listed[0]["blocks"] for e in b.get("elements", []) if e.get("action_id") == "survey.call"]
    assert len(buttons) == 2

    def open_call(button: dict) -> dict:  # type: ignore[type-arg]
        before = len(emulator.calls_to("views.open"))
        slack.block_action(LI, "survey.call", button["value"], channel_id="D1", message_ts="1.1")
        return emulator.wait_for("views.open", count=before + 1)[-1].response["view"]

    def chosen(value: str) -> dict:  # type: ignore[type-arg]
        return {"type": "static_select", "selected_option": {"value": value}}

    view = open_call(buttons[0])
    blocks = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert blocks[0] == "outcome" and not any(b.startswith("competitor:") for b in blocks)
    response = slack.view_submission(LI, view, {"outcome": {"outcome": chosen("reached")}})
    errors = response.json()["errors"]
    assert "rating:pq_conformity" in errors and "outcome" not in errors
    assert slack.view_submission(LI, view, {"outcome": {"outcome": chosen("not_reached")}}).body in (b"", "")
    run(12)  # not reached: on the next working day's list again
    assert len(calls()) == 2
    view = open_call(buttons[0])
    ratings = {b: {b: chosen("5")} for b in blocks if b.startswith("rating:")}
    values = {"outcome": {"outcome": chosen("reached")}, **ratings}
    assert slack.view_submission(LI, view, values).body in (b"", "")
    assert slack.view_submission(LI, view, values).body in (b"", "")  # the same dialog twice: recorded once
    with cli.session() as session:
        answered = session.scalars(select(SurveyInvitation).where(SurveyInvitation.answered_at.is_not(None))).all()
        assert len(answered) == 1 and answered[0].answered_by == "phone" and answered[0].call_outcome == "reached"
    slack.block_action(LI, "survey.call", buttons[0]["value"], channel_id="D1", message_ts="1.1")
    emulator.wait_for("response_url", lambda c: "已于" in json.dumps(c.args, ensure_ascii=False))
    slack.block_action("U0FI00001", "survey.call", buttons[1]["value"], channel_id="D1", message_ts="1.1")
    emulator.wait_for("response_url", lambda c: "不允许" in json.dumps(c.args, ensure_ascii=False))
    run(13)
    last = [e["value"] for b in calls()[-1]["blocks"] for e in b.get("elements", []) if e.get("action_id") ==
            "survey.call"]
    assert len(calls()) == 3 and last == [buttons[1]["value"]]  # who answered is not called again


def test_the_anonymous_employee_survey(cli: AppContext, slack, emulator: SlackEmulator, clock: FixedClock,  # type: ignore[no-untyped-def]
                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import inspect

    from storage.models import EmployeeInvitation, SurveyResponse

    makers = [f"U0MF0000{n}" for n in range(1, 9)]
    sheet = tmp_path / "people.csv"
    sheet.write_text("slack_user_id,name,roles,department\n" + "".join(
        f"{user},工人{n},ipqc_engineer,制造部\n" for n, user in enumerate(makers, start=1)), encoding="utf-8")
    assert main(["people", "import", str(sheet)]) == 0
    for user in makers:
        emulator.workspace.add_user(user, user, "zh-CN")
    capsys.readouterr()
    assert main(["survey", "new", "--kind", "employee", "--opens", "2026-10-09", "--closes", "2026-10-30",
                 "--seed", "5", "--json"]) == 0
    survey = json.loads(capsys.readouterr().out)
    assert survey["sample_rate"] == 0.6 and survey["invited"] == [] and len(survey["items"]) == 8
    with cli.session() as session:
        asked = session.scalars(select(EmployeeInvitation)).all()
        by_department: dict[str, int] = {}
        for invitation in asked:
            by_department[invitation.department] = by_department.get(invitation.department, 0) + 1
    # at least 60 % of each department, rounded up: 8 → 5, 2 → 2, 1 → 1
    assert by_department == {"制造部": 5, "质量部": 2, "Quality": 1, "销售部": 1, "Sales": 1, "财务部": 1}

    def run(day: int) -> None:
        when = dt.datetime(2026, 10, day, 10, tzinfo=SHANGHAI)
        clock.set(when)
        surveys(cli, when)
        cli.deliverer.deliver_due(when)

    def invitations_to(user: str) -> list[dict]:  # type: ignore[type-arg]
        channel = emulator.workspace.dm_channel(user)
        return [c.args for c in emulator.calls_to("chat.postMessage") if c.response.get("channel") == channel
                and "survey.employee" in json.dumps(c.args)]

    run(9)
    run(9)
    invited = [u for u in makers if invitations_to(u)]
    assert len(invited) == 5 and all(len(invitations_to(u)) == 1 for u in invited)
    view = None
    for user in invited:
        slack.block_action(user, "survey.employee", str(survey["id"]), channel_id="D1", message_ts="1.1")
        view = emulator.wait_for("views.open", lambda c, u=user: True, count=invited.index(user) + 1)[-1]
        view = view.response["view"]
        assert "Anonymous" in json.dumps(view) or "匿名" in json.dumps(view, ensure_ascii=False)
        keys = [b["block_id"] for b in view["blocks"] if b["type"] == "input" and b["block_id"].startswith("rating:")]
        values = {k: {k: {"type": "static_select", "selected_option": {"value": "4" if user != invited[0] else "2"}}}
                  for k in keys}
        if user == invited[0]:
            assert "errors" in slack.view_submission(user, view, {}).json()
        assert slack.view_submission(user, view, values).body in (b"", "")
        assert slack.view_submission(user, view, values).body in (b"", "")  # sent twice: one answer
    not_asked = next(u for u in makers if u not in invited)
    slack.block_action(not_asked, "survey.employee", str(survey["id"]), channel_id="D1", message_ts="1.1")
    emulator.wait_for("response_url", lambda c: "没有邀请您" in json.dumps(c.args, ensure_ascii=False))

    results = json.loads((main(["survey", "results", str(survey["id"]), "--json"]), capsys.readouterr().out)[1])
    departments = {d["name"]: d for d in results["departments"]}
    assert departments["制造部"] == {"name": "制造部", "headcount": 8, "invited": 5, "answered": 5,
                                   "csi": round((25 + 75 * 4) / 5, 1)}
    assert departments["质量部"]["csi"] is None and departments["质量部"]["invited"] == 2  # no group under five shown
    assert results["csi"] == round((25 + 75 * 4) / 5, 1) and results["response_rate"] == round(5 / 11, 3)
    assert "customers" not in results
    with cli.session() as session:
        rows = session.scalars(select(SurveyResponse).where(SurveyResponse.campaign_id == survey["id"])).all()
        assert len(rows) == 5
        # anonymity is in the rows: a department and a day, nothing that names or points to a person
        assert {(r.respondent, r.entered_by_id, r.invitation_id, r.customer_id, r.department) for r in rows} == {
            (None, None, None, None, "制造部")}
        assert {r.submitted_at.astimezone(dt.UTC).time() for r in rows} == {dt.time(0)}
    columns = {c["name"] for c in inspect(cli.engine).get_columns("survey_employee_invitations")}
    assert columns == {"id", "campaign_id", "person_id", "department", "answered", "created_at"}
    assert [fk["referred_table"] for fk in inspect(cli.engine).get_foreign_keys("survey_employee_invitations")
            if fk["referred_table"] == "survey_responses"] == []

    run(12)  # two working days on (10-10 is a working Saturday): a reminder to the six who have not answered
    reminded = [c for c in emulator.calls_to("chat.postMessage") if "survey-employee-reminder:" in json.dumps(c.args)]
    assert len(reminded) == 6 and not any(c.response.get("channel") in {emulator.workspace.dm_channel(u)
                                                                         for u in invited} for c in reminded)
    code, printed, _err = (main(["survey", "close", str(survey["id"])]), *capsys.readouterr())
    assert code == 0 and "0 customers" in printed
