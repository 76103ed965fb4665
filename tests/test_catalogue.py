"""Rules and metrics changed without SQL: a new version valid from a month, earlier months
keep theirs; every mistake is named, with the nearest valid key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.people.customers import all_customers
from bot.scorecard.book import ScoreBook, load_rule_sets
from bot.scorecard.engine import rule_set_for
from handlers.cli import main
from handlers.testing.slack_emulator import SlackEmulator, SlackSender, shown
from tests.conftest import SHANGHAI


@pytest.fixture
def cli(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    return ctx


def test_a_rule_change_is_a_version_from_a_month_and_earlier_scores_keep_their_rules(
        cli: AppContext, scored: AppContext, capsys: pytest.CaptureFixture[str]) -> None:
    with scored.session() as session:
        before = ScoreBook(session).monthly(all_customers(session), ["2026-08", "2026-09"])
    assert main(["rules", "set", "--from", "2026-09", "event.production_stop=15", "grade.average=70",
                 "monthly_target=85"]) == 0
    out = capsys.readouterr().out
    assert "version 2 is in force from 2026-09" in out and "event.production_stop: 10 → 15" in out
    with scored.session() as session:
        after = ScoreBook(session).monthly(all_customers(session), ["2026-08", "2026-09"])
    (august_before, september_before), (august_after, september_after) = (
        [s for k, s in sorted(scores.items(), key=lambda kv: kv[0][1])] for scores in (before, after))
    assert august_after.total == august_before.total and august_after.rule_set_version == 1
    assert september_after.rule_set_version == 2 and september_after.total < september_before.total
    assert main(["rules", "set", "--from", "2026-09", "event.production_stop=15", "grade.average=70",
                 "monthly_target=85"]) == 0
    assert "Nothing changed" in capsys.readouterr().out  # the same change twice adds no version
    assert main(["rules", "list", "--all", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["valid_from"]) for v in listed] == [(1, "2000-01-01"), (2, "2026-09-01")]


def test_rule_mistakes_are_named_with_the_nearest_key_and_nothing_is_stored(
        cli: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["rules", "set", "--from", "2027-01", "montly_target=85"]) == 1
    assert "did you mean monthly_target" in capsys.readouterr().err
    assert main(["rules", "set", "--from", "2027-01", "category.kpi=25"]) == 1
    assert "add up to 105, not 100" in capsys.readouterr().err
    assert main(["rules", "set", "--from", "2027-01", "grade.unsatisfied=10"]) == 1
    assert "lowest grade must start at 0" in capsys.readouterr().err
    assert main(["rules", "set", "--from", "2027-13", "monthly_target=85"]) == 1
    assert main(["rules", "set", "--from", "2027-01", "survey_weight=abc"]) == 1
    assert "not a number" in capsys.readouterr().err
    broken = tmp_path / "rules.toml"
    broken.write_text("[scorecard\nmonthly_target = 80", encoding="utf-8")
    assert main(["rules", "import", str(broken)]) == 1
    assert "is not a TOML file" in capsys.readouterr().err
    assert main(["rules", "list", "--all", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_a_rule_file_changes_what_it_names(cli: AppContext, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[scorecard]\nmonthly_target = 82\n[scorecard.categories]\nquality = 35\ndelivery = 25\n'
                    '[[scorecard.events]]\nkey = "line_hold"\npoints = 7\n'
                    '[[grades]]\nkey = "satisfied"\nmin_score = 81\n', encoding="utf-8")
    assert main(["rules", "import", str(path), "--from", "2027-06"]) == 0
    assert main(["rules", "list", "--month", "2027-06", "--json"]) == 0
    rules = _json_tail(capsys)
    assert rules["monthly_target"] == 82 and rules["categories"]["quality"] == 35
    assert {e["key"]: e["points"] for e in rules["events"]}["line_hold"] == 7
    assert {g["key"]: g["min_score"] for g in rules["grades"]}["satisfied"] == 81


def _json_tail(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    text = capsys.readouterr().out
    return json.loads(text[text.index("{"):])  # type: ignore[no-any-return]


def test_a_metric_target_is_kept_per_month_and_fields_are_checked(
        cli: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["metrics", "set", "line_defect_ppm", "target=150", "--from", "2027-01"]) == 0
    assert "line_defect_ppm.target: 100 → 150 (from 2027-01)" in capsys.readouterr().out
    for month, target in (("2026-12", 100), ("2027-01", 150)):
        assert main(["metrics", "list", "--month", month, "--json"]) == 0
        rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
        assert rows["line_defect_ppm"]["target"] == target
    assert main(["metrics", "set", "line_defect_ppm", "targt=150", "owner_role=sales_manger"]) == 1
    err = capsys.readouterr().err
    assert "did you mean target" in err and "did you mean sales_manager" in err
    assert main(["metrics", "set", "line_defect_pp", "target=1"]) == 1
    assert "did you mean line_defect_ppm" in capsys.readouterr().err
    assert main(["metrics", "set", "line_defect_ppm", "target=-5"]) == 1
    assert "outside" in capsys.readouterr().err
    sheet = tmp_path / "metrics.csv"
    sheet.write_text("key,target,name_zh,name_en,unit,min,max,higher_is_better,owner_role,scope\n"
                     "line_defect_ppm,120,,,,,,,,\n"
                     "warranty_rate,1,质保率,Warranty rate,%,0,100,no,after_sales_engineer,customer\n"
                     "kpi.new,5,,,,,,,,\n", encoding="utf-8")
    assert main(["metrics", "import", str(sheet)]) == 1
    assert "Row 4: kpi.new is a new figure and needs name_zh" in capsys.readouterr().err
    sheet.write_text(sheet.read_text(encoding="utf-8").replace("kpi.new,5,,,,,,,,\n", ""), encoding="utf-8")
    assert main(["metrics", "import", str(sheet), "--from", "2027-03"]) == 0
    assert "1 new, 1 changed, 0 unchanged" in capsys.readouterr().out
    assert main(["metrics", "list", "--month", "2027-03", "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["warranty_rate"]["owner_role"] == "after_sales_engineer" and rows["line_defect_ppm"]["target"] == 120


def _form_values(view: dict, changed: dict[str, str]) -> dict:  # type: ignore[type-arg]
    """The dialog as submitted: every field with its initial value unless changed."""
    state = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        key, element = block["block_id"], block["element"]
        if element["type"] == "static_select":
            value = changed.get(key) or element.get("initial_option", {}).get("value")
            state[key] = {key: {"type": "static_select", "selected_option": {"value": value}}}
        else:
            state[key] = {key: {"type": element["type"], "value": changed.get(key, element.get("initial_value", ""))}}
    return state


def test_a_quality_engineer_changes_the_rules_in_a_dialog(slack: SlackSender, ctx: AppContext, people: None,
                                                          emulator: SlackEmulator, clock: FixedClock) -> None:
    clock.set(dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))
    refused = slack.command("/csat", "rules", "U0SM00001").answer()
    assert "无权" in refused["text"] or "质量工程师" in refused["text"]
    assert slack.command("/csat", "rules", "U0QE00001").status == 200
    view = emulator.wait_for("views.open")[0].response["view"]
    assert view["callback_id"] == "scorecard.rules"
    labels = " ".join(b["label"]["text"] for b in view["blocks"] if b.get("type") == "input")
    assert "月度目标" in labels and "整车侯检" in labels
    wrong = slack.view_submission("U0QE00001", view, _form_values(view, {"category.kpi": "25"})).json()
    assert wrong["response_action"] == "errors" and "105" in wrong["errors"]["category.quality"]
    saved = slack.view_submission("U0QE00001", view, _form_values(view, {"monthly_target": "85",
                                                                         "event.line_hold": "6"}))
    assert saved.status == 200 and saved.body == ""
    posted = emulator.wait_for("chat.postMessage", lambda c: "第 2 版" in c.args["text"], count=2)
    assert any(c.response.get("channel", "").startswith("D") for c in posted)
    assert "event.line_hold: 5 → 6" in shown(posted[0].args)
    with ctx.session() as session:
        rules = rule_set_for(load_rule_sets(session), "2027-01")
        assert (rules.version, rules.monthly_target, rules.events["line_hold"].points) == (2, 85, 6)
        assert rule_set_for(load_rule_sets(session), "2026-12").version == 1


def test_a_quality_engineer_changes_a_figures_target_from_its_answer(
        slack: SlackSender, ctx: AppContext, people: None, emulator: SlackEmulator, clock: FixedClock) -> None:
    from bot.datacall.catalogue import targets_in_force

    clock.set(dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))
    answer = json.dumps(slack.command("/csat", "metric line_defect_ppm", "U0QE00001").answer(), ensure_ascii=False)
    assert "csat.metric_target" in answer
    assert "csat.metric_target" not in json.dumps(slack.command("/csat", "metric line_defect_ppm",
                                                                "U0SM00001").answer())
    slack.block_action("U0QE00001", "csat.metric_target", "line_defect_ppm", channel_id="C0GENERAL",
                       message_ts="1.1")
    view = emulator.wait_for("views.open")[0].response["view"]
    assert view["callback_id"] == "metrics.target"
    wrong = slack.view_submission("U0QE00001", view, _form_values(view, {"valid_from": "2027-01",
                                                                         "target": "-5"})).json()
    assert wrong["response_action"] == "errors" and "超出" in wrong["errors"]["target"]
    assert slack.view_submission("U0QE00001", view, _form_values(view, {"valid_from": "2027-01",
                                                                        "target": "150"})).status == 200
    emulator.wait_for("chat.postMessage", lambda c: "150" in c.args["text"])
    with ctx.session() as session:
        assert targets_in_force(session, "2026-12", ["line_defect_ppm"])["line_defect_ppm"] == 100
        assert targets_in_force(session, "2027-01", ["line_defect_ppm"])["line_defect_ppm"] == 150


def test_rule_values_beyond_what_the_rules_keep_are_refused(cli: AppContext, capsys: pytest.CaptureFixture[str],
                                                            tmp_path: Path) -> None:
    assert main(["rules", "set", "abnormal_streak_months=100000"]) == 1
    assert "from 0 to 100" in capsys.readouterr().err
    assert main(["rules", "set", "abnormal_streak_months=30"]) == 1
    assert "from 1 to 24" in capsys.readouterr().err
    assert main(["rules", "set", "event.line_hold=5.555"]) == 1
    assert "decimal places" in capsys.readouterr().err
    odd = tmp_path / "odd.toml"
    odd.write_text("[scorecard]\ncategories = 5\n", encoding="utf-8")
    assert main(["rules", "import", str(odd)]) == 1
    assert "must be tables" in capsys.readouterr().err
    assert main(["rules", "set", "--from", "2027-06", "monthly_target=82"]) == 0
    assert main(["rules", "set", "--from", "2027-03", "monthly_target=85"]) == 0
    assert "applies until 2027-06" in capsys.readouterr().out
