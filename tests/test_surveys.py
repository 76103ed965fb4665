"""Surveys from the command line: planned with the company's questionnaire, answers taken in
all or nothing, results computed as the README says, and closing feeds the annual score."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bot.core.context import AppContext
from handlers.cli import main
from storage.models import SurveyCampaign

ANSWERS = """customer,respondent,item,rating,importance,competitor,comment
ACME,采购部 王工,pq_conformity,5,5,4,
ACME,采购部 王工,pq_stability,3,5,,
ACME,采购部 王工,sv_response,4,3,,响应快
HDQC,质量部 李工,pq_conformity,2,4,3,批次波动大
HDQC,质量部 李工,sv_response,5,2,,
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli(ctx: AppContext, people: None, monkeypatch) -> AppContext:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    return ctx


def test_a_survey_from_plan_to_the_annual_score(cli: AppContext, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, printed, _err = run(capsys, "survey", "new", "--kind", "half_year", "--opens", "2026-06-01",
                              "--closes", "2026-06-30", "--json")
    survey = json.loads(printed)
    assert code == 0 and survey["kind"] == "half_year" and len(survey["items"]) == 10
    assert {i["dimension"] for i in survey["items"]} == {"product_quality", "service", "price", "brand",
                                                         "complaint_handling", "delivery", "system"}
    sid = str(survey["id"])
    assert run(capsys, "survey", "new", "--kind", "half_year", "--opens", "2026-06-01", "--closes",
               "2026-06-30")[0] == 1  # the same survey twice is refused
    bad = tmp_path / "bad.csv"
    bad.write_text(ANSWERS + "ACMF,x,pq_conformity,6,,,\nACME,采购部 王工,pq_conformity,5,,,\n", encoding="utf-8")
    code, _out, said = run(capsys, "survey", "import-responses", sid, str(bad))
    assert code == 1 and "value 'ACMF'" in said and "Did you mean 'ACME'?" in said and "value '6'" in said
    assert "already answered it in row 2" in said
    questionnaire = tmp_path / "items.csv"
    questionnaire.write_text("key,dimension,text_zh,text_en\nq1,quality,质量,Quality\n", encoding="utf-8")
    code, _out, said = run(capsys, "survey", "new", "--kind", "special", "--opens", "2026-07-01", "--closes",
                           "2026-07-31", "--from", str(questionnaire))
    assert code == 1 and "row 2: Column dimension, value 'quality': not a dimension." in said and "{p0}" not in said
    good = tmp_path / "answers.csv"
    good.write_text(ANSWERS, encoding="utf-8")
    assert run(capsys, "survey", "import-responses", sid, str(good))[0] == 0
    assert "0 respondents new, 2 answered again" in run(capsys, "survey", "import-responses", sid, str(good))[1]
    results = json.loads(run(capsys, "survey", "results", sid, "--json")[1])
    quality = next(d for d in results["dimensions"] if d["key"] == "product_quality")
    # 5, 3, 2 → 100, 50, 25: 58.3; importance (5 + 5 + 4) / 3; one of three satisfied, one somewhat, one not
    assert quality["score"] == 58.3 and quality["importance"] == 4.67
    assert (quality["satisfied"], quality["somewhat"], quality["unsatisfied"]) == (0.333, 0.333, 0.333)
    # the competitor over the answers that rated it: (4, 3) → 75, 50; the gap over the same answers:
    # (5 vs 4) +25 and (2 vs 3) −25
    assert quality["competitor"] == 62.5 and quality["gap_to_competitor"] == 0.0
    service = next(d for d in results["dimensions"] if d["key"] == "service")
    assert service["score"] == 87.5  # 4, 5 → 75, 100
    # weighted by importance: (58.33 × 4.67 + 87.5 × 2.5) / 7.17
    assert results["csi"] == round((175 / 3 * 14 / 3 + 87.5 * 2.5) / (14 / 3 + 2.5), 1)
    acme = next(c for c in results["customers"] if c["code"] == "ACME")
    assert acme["responses"] == 1 and acme["csi"] == round((75 * 5 + 75 * 3) / 8, 1)
    import openpyxl

    table = tmp_path / "statistics.xlsx"
    assert run(capsys, "survey", "export", sid, "--xlsx", str(table), "--locale", "zh-CN")[0] == 0
    book = openpyxl.load_workbook(table)
    answers, summary, comments = book.worksheets
    assert [[c.value for c in row] for row in comments.iter_rows(min_row=2)] == [
        ["产品质量", "HDQC", "批次波动大"], ["服务", "ACME", "响应快"]]
    rows = list(answers.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 5 and rows[0][:7] == ("ACME", "艾克美汽车", "采购部 王工", "产品质量",
                                              "产品质量符合要求（外观、尺寸、性能）", 5, 100)
    assert summary["B2"].value == results["csi"] and summary["A6"].value == "产品质量"
    assert summary["D6"].value == 0.333 and summary["D6"].number_format == "0%" and summary._charts
    code, printed, _err = run(capsys, "survey", "close", sid)
    assert code == 0 and "2 customers' survey scores recorded" in printed
    assert "0 customers" in run(capsys, "survey", "close", sid)[1]  # closing twice changes nothing
    assert "closed" in run(capsys, "survey", "import-responses", sid, str(good))[2]
    code, printed, _err = run(capsys, "score", "--customer", "ACME", "--year", "2026", "--json")
    assert json.loads(printed)["survey_score"] == 75.0  # the CSI, blended into the annual score


def test_survey_results_in_slack(cli: AppContext, slack, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from handlers.testing.slack_emulator import shown

    assert "No survey" in slack.command("/csat", "survey", "U0QE00002").answer()["text"]
    survey = json.loads(run(capsys, "survey", "new", "--kind", "quarterly", "--opens", "2026-09-01", "--closes",
                            "2026-09-30", "--json")[1])
    answers = tmp_path / "answers.csv"
    answers.write_text(ANSWERS, encoding="utf-8")
    assert run(capsys, "survey", "import-responses", str(survey["id"]), str(answers))[0] == 0
    answer = slack.command("/csat", "survey results", "U0QE00002").answer()
    text = shown(answer)
    assert f"Survey {survey['id']} · quarterly questionnaire" in text and "product quality" in text
    assert "33% / 33% / 33%" in text and "+0.0" in text and "Lowest CSI: HDQC" in text
    table = answer["attachments"][0]["blocks"][-1]
    assert table["type"] == "table"
    chinese = shown(slack.command("/csat", f"调查 {survey['id']}", "U0QE00001").answer())
    assert "产品质量" in chinese and "满意度指数" in chinese
    assert "Your roles do not allow" in slack.command("/csat", "survey", "U0SM00002").answer()["text"]


def test_importance_performance_trend_and_comments(cli: AppContext, slack, emulator, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   capsys) -> None:
    answers = tmp_path / "answers.csv"
    answers.write_text(ANSWERS, encoding="utf-8")
    first = json.loads(run(capsys, "survey", "new", "--kind", "quarterly", "--opens", "2026-04-01", "--closes",
                           "2026-04-30", "--json")[1])
    later = json.loads(run(capsys, "survey", "new", "--kind", "quarterly", "--opens", "2026-07-01", "--closes",
                           "2026-07-31", "--json")[1])
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("customer,respondent,item,rating\nACME,王工,pq_conformity,3\n", encoding="utf-8")
    assert run(capsys, "survey", "import-responses", str(first["id"]), str(earlier))[0] == 0
    assert run(capsys, "survey", "import-responses", str(later["id"]), str(answers))[0] == 0
    results = json.loads(run(capsys, "survey", "results", str(later["id"]), "--json")[1])
    quadrant = {d["key"]: d["quadrant"] for d in results["dimensions"]}
    # product quality: importance 4.67 over the mean 3.58, score 58.3 under the mean 72.9; service the opposite
    assert quadrant == {"product_quality": "concentrate_here", "service": "possible_overkill"}
    assert results["trend"] == [{"survey": first["id"], "opens": "2026-04-01", "csi": 50.0}]
    assert run(capsys, "survey", "close", str(first["id"]))[0] == 0  # its CSI is kept, and the trend reads it
    with cli.session() as session:
        assert session.get(SurveyCampaign, first["id"]).csi == Decimal("50.00")
    assert json.loads(run(capsys, "survey", "results", str(later["id"]), "--json")[1])["trend"] == results["trend"]
    assert {(c["dimension"], c["customer"], c["text"]) for c in results["comments"]} == {
        ("service", "ACME", "响应快"), ("product_quality", "HDQC", "批次波动大")}
    acme = json.loads(run(capsys, "survey", "results", str(later["id"]), "--customer", "ACME", "--json")[1])
    assert acme["customer"] == "ACME" and [c["code"] for c in acme["customers"]] == ["ACME"]
    assert acme["csi"] == round((75 * 5 + 75 * 3) / 8, 1) and len(acme["comments"]) == 1
    assert "NOPE" in run(capsys, "survey", "results", str(later["id"]), "--customer", "NOPE")[2]
    from handlers.testing.slack_emulator import shown

    text = shown(slack.command("/csat", f"survey results {later['id']} ACME", "U0QE00002").answer())
    assert "· ACME" in text and "Earlier surveys of this kind" in text and "响应快" in text
    card = shown(slack.command("/csat", f"survey {later['id']}", "U0QE00002").answer())
    assert "concentrate here" in card and "possible overkill" in card and "批次波动大" in card
    upload = emulator.wait_for("upload", lambda c: True)[-1]
    png = emulator.workspace.files[upload.args["file_id"]]["content"]
    assert png.startswith(b"\x89PNG")


def test_the_questionnaire_is_edited_as_a_file_and_a_survey_planned_in_a_dialog(  # type: ignore[no-untyped-def]
        cli: AppContext, slack, emulator, tmp_path: Path, capsys) -> None:
    before = json.loads(run(capsys, "survey", "new", "--kind", "special", "--opens", "2026-08-01", "--closes",
                            "2026-08-15", "--json")[1])
    exported = tmp_path / "template.csv"
    assert run(capsys, "survey", "template", "export", str(exported))[0] == 0
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "key,dimension,text_zh,text_en,asks_importance" and len(lines) == 11
    edited = [lines[0], *lines[1:8], "pk_packaging,delivery,包装防护到位,Packaging protects the parts,yes"]
    exported.write_text("\n".join(edited) + "\n", encoding="utf-8")
    code, printed, _err = run(capsys, "survey", "template", "import", str(exported))
    assert code == 0 and "now has 8 items" in printed
    assert len(json.loads(run(capsys, "survey", "show", str(before["id"]), "--json")[1])["items"]) == 10
    bad = tmp_path / "bad.csv"
    bad.write_text("key,dimension,text_zh,text_en\nx,nowhere,问,Q\n", encoding="utf-8")
    code, _out, said = run(capsys, "survey", "template", "import", str(bad))
    assert code == 1 and "not a dimension" in said

    assert "planned by the quality engineers" in slack.command("/csat", "survey new", "U0SM00002").answer()["text"]
    slack.command("/csat", "survey new", "U0QE00002")
    view = emulator.wait_for("views.open")[-1].response["view"]
    intro = view["blocks"][0]["text"]["text"]
    assert "8 items" in intro and "No survey has closed yet" in intro and "mean score" in intro

    def chosen(value: str) -> dict:  # type: ignore[type-arg]
        return {"type": "static_select", "selected_option": {"value": value}}

    values = {"kind": {"kind": chosen("quarterly")},
              "opens": {"opens": {"type": "datepicker", "selected_date": "2026-11-02"}},
              "closes": {"closes": {"type": "datepicker", "selected_date": "2026-10-30"}},
              "follow_up": {"follow_up": {"type": "plain_text_input", "value": "交付周期能否缩短？\n包装是否改进？"}}}
    errors = slack.view_submission("U0QE00002", view, values).json()["errors"]
    assert set(errors) == {"closes", "follow_dimension"}
    values["closes"] = {"closes": {"type": "datepicker", "selected_date": "2026-11-20"}}
    values["follow_dimension"] = {"follow_dimension": chosen("delivery")}
    assert slack.view_submission("U0QE00002", view, values).body in (b"", "")
    assert slack.view_submission("U0QE00002", view, values).body in (b"", "")  # twice: one survey
    told = emulator.wait_for("chat.postMessage", lambda c: "is planned" in c.args.get("text", ""))
    assert len(told) == 1 and "10 items" in told[0].args["text"]
    survey = json.loads(run(capsys, "survey", "show", str(before["id"] + 1), "--json")[1])
    assert survey["kind"] == "quarterly" and survey["items"][-1] == {
        "key": "follow_up_2", "dimension": "delivery", "text_zh": "包装是否改进？", "text_en": "包装是否改进？",
        "asks_importance": False}
