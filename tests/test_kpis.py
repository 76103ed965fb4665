"""The customer KPI register: what a customer requires, what the bot computes, what the
owner is asked for, and a month that stays provisional until its KPIs are known."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.datacall.figures import record_figure
from bot.datacall.obligations import obligations
from bot.people.customers import all_customers
from bot.scorecard.book import ScoreBook
from bot.scorecard.kpis import import_kpis
from handlers.cli import main
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from storage.models import Customer, CustomerKpi, Person
from tests.conftest import SHANGHAI
from tests.test_complaints import LEDGER_HEADER

LI = "U0SM00001"
REGISTER = ("customer,kpi,name_zh,name_en,target,direction\n"
            "ACME,cpk,关键过程能力,Key process capability,1.33,higher\n"
            "ACME,after_sales_ppm,售后PPM,After-sales PPM,300,lower\n"
            "ACME,response_timeliness,响应及时率,Response timeliness,95,higher\n"
            "HDQC,none,,,,\n")
# in October: November's call has not opened, so September has closed and October is open
OCTOBER = dt.datetime(2026, 10, 20, 10, 0, tzinfo=SHANGHAI)


def ids(ctx: AppContext) -> dict[str, int]:
    with ctx.session() as session:
        return dict(session.execute(select(Customer.code, Customer.id)).all())  # type: ignore[arg-type]


def load_register(ctx: AppContext, tmp_path: Path, text: str = REGISTER, valid_from: str = "2026-01") -> None:
    path = tmp_path / "kpis.csv"
    path.write_text(text, encoding="utf-8")
    with ctx.session() as session:
        result = import_kpis(session, path, valid_from, OCTOBER)
        assert result.ok, result.errors


def figure(ctx: AppContext, metric: str, month: str, code: str, value: str) -> None:
    with ctx.session() as session:
        record_figure(session, metric, month, ids(ctx)[code], Decimal(value), OCTOBER, by=None, source="import")


def score(ctx: AppContext, month: str, code: str = "ACME", now: dt.datetime = OCTOBER):  # type: ignore[no-untyped-def]
    with ctx.session() as session:
        return ScoreBook(session, now, SHANGHAI).monthly(all_customers(session), [month]).get((ids(ctx)[code], month))


def test_the_register_is_imported_listed_and_versioned_from_a_month(
        ctx: AppContext, people: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    path = tmp_path / "kpis.csv"
    path.write_text(REGISTER, encoding="utf-8")
    assert main(["import", "kpis", str(path), "--from", "2026-01", "--dry-run"]) == 0
    assert "4 new or changed" in capsys.readouterr().out
    assert main(["import", "kpis", str(path), "--from", "2026-01"]) == 0
    assert main(["import", "kpis", str(path), "--from", "2026-01"]) == 0
    assert "0 new or changed, 4 unchanged" in capsys.readouterr().out.splitlines()[-1]
    path.write_text(REGISTER.replace("1.33,higher", "1.67,higher"), encoding="utf-8")
    assert main(["import", "kpis", str(path), "--from", "2026-10"]) == 0
    assert "1 new or changed, 3 unchanged" in capsys.readouterr().out
    assert main(["kpis", "list", "--customer", "ACME", "--month", "2026-09", "--json"]) == 0
    september = {r["kpi"]: r for r in _last_json(capsys)}
    assert september["cpk"]["target"] == 1.33 and september["response_timeliness"]["computed"] is True
    assert main(["kpis", "list", "--customer", "ACME", "--month", "2026-10", "--json"]) == 0
    october = {r["kpi"]: r for r in _last_json(capsys)}
    assert october["cpk"]["target"] == 1.67 and october["cpk"]["valid_from"] == "2026-10"
    assert main(["kpis", "list"]) == 0
    listing = capsys.readouterr().out
    assert "kpi.cpk" in listing and "asked in the monthly call" in listing and "kpi.after_sales_ppm" in listing
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,kpi,name_zh,name_en,target,direction\n"
                   "NOPE,cpk,过程能力,Cpk,1.33,higher\n"
                   "ACME,Cp K,过程能力,Cpk,1.33,up\n"
                   "ACME,ppm,售后,PPM,120%,lower\n", encoding="utf-8")
    assert main(["import", "kpis", str(bad)]) == 1
    errors = capsys.readouterr().err
    assert "Unknown customer 'NOPE'" in errors and "higher or lower" in errors and "lower-case letters" in errors
    assert "outside 0–100" in errors
    with ctx.session() as session:
        assert len(list(session.scalars(select(CustomerKpi)))) == 5  # the bad file wrote nothing


def _last_json(capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_the_achievement_rate_is_met_over_applicable_from_asked_and_computed_kpis(
        ctx: AppContext, people: None, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    load_register(ctx, tmp_path)
    figure(ctx, "on_time_deliveries", "2026-09", "ACME", "40")
    figure(ctx, "kpi.cpk", "2026-09", "ACME", "1.4")  # met
    figure(ctx, "field_3mis_ppm", "2026-09", "ACME", "420")  # after-sales PPM above 300: not met
    figure(ctx, "kpi_achievement_rate", "2026-09", "ACME", "100")  # typed, but the register decides
    ledger = tmp_path / "ledger.csv"  # register and investigation met, first response late: 3 of 5 met
    ledger.write_text(LEDGER_HEADER + "KS-2026-0100,ACME,2026-09-01 09:00,一般,DM-2201,B1,门锁异响,closed,"
                      "2026-09-03 09:00,2026-09-02 08:00,,2026-09-03 16:00,已更换\n", encoding="utf-8")
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    assert main(["import", "complaints", str(ledger)]) == 0
    september = score(ctx, "2026-09")
    results = {r.kpi.kpi: r for r in september.kpi_results}
    assert results["cpk"].met is True and results["cpk"].source == "figure"
    assert results["after_sales_ppm"].value == 420 and results["after_sales_ppm"].met is False
    assert results["response_timeliness"].source == "computed" and results["response_timeliness"].met is False
    assert 0 < results["response_timeliness"].value < 95  # type: ignore[operator]
    assert september.kpi == pytest.approx(20 * 1 / 3, abs=0.01) and not september.provisional
    # HDQC requires no KPIs: full marks, nothing asked, and not provisional
    figure(ctx, "on_time_deliveries", "2026-09", "HDQC", "12")
    hdqc = score(ctx, "2026-09", "HDQC")
    assert hdqc.kpi == 20 and not hdqc.provisional and hdqc.kpi_missing == []
    capsys.readouterr()
    assert main(["score", "--customer", "ACME", "--month", "2026-09", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provisional"] is False and data["kpi_missing"] == []
    assert {k["kpi"]: k["met"] for k in data["kpis"]} == {"after_sales_ppm": False, "cpk": True,
                                                           "response_timeliness": False}


def test_a_month_with_kpis_missing_is_provisional_until_it_closes(ctx: AppContext, people: None,
                                                                  tmp_path: Path) -> None:
    load_register(ctx, tmp_path)
    figure(ctx, "on_time_deliveries", "2026-10", "ACME", "40")
    figure(ctx, "kpi.cpk", "2026-10", "ACME", "1.5")
    open_month = score(ctx, "2026-10", now=dt.datetime(2026, 11, 5, 10, tzinfo=SHANGHAI))
    assert open_month.provisional and open_month.kpi_missing == ["after_sales_ppm"]
    assert open_month.kpi == 20  # only the known KPI counts while the month is open
    closed = score(ctx, "2026-10", now=dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))  # November's call opened
    assert not closed.provisional and closed.kpi_missing == ["after_sales_ppm"]
    assert closed.kpi == 10  # the missing KPI counts as not met: 1 of 2
    with ctx.session() as session:
        from storage.models import SettingValue

        row = session.get(SettingValue, "data_call")
        if row is None:
            session.add(SettingValue(key="data_call", value={"kpi_missing_at_close": "not_counted"}))
        else:
            row.value = {**row.value, "kpi_missing_at_close": "not_counted"}
    assert score(ctx, "2026-10", now=dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI)).kpi == 20


def test_a_customer_without_a_register_is_chased_for_its_rate_and_a_forgotten_one_is_not_full_marks(
        ctx: AppContext, people: None) -> None:
    figure(ctx, "on_time_deliveries", "2026-10", "ACME", "40")
    open_month = score(ctx, "2026-10", now=dt.datetime(2026, 11, 5, 10, tzinfo=SHANGHAI))
    assert open_month.provisional and open_month.kpi_missing == ["kpi_achievement_rate"]
    closed = score(ctx, "2026-10", now=dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))
    assert not closed.provisional and closed.kpi == 0
    with ctx.session() as session:
        duties = obligations(session, "2026-10", dt.date(2026, 11, 3))
        li = session.scalar(select(Person.id).where(Person.slack_user_id == LI))
        item = next(i for i in duties[li].items if i.metric == "kpi_achievement_rate")
        assert item not in duties[li].optional


def test_the_owner_is_asked_for_the_kpis_the_bot_cannot_compute(ctx: AppContext, people: None,
                                                                tmp_path: Path) -> None:
    load_register(ctx, tmp_path)
    with ctx.session() as session:
        duties = obligations(session, "2026-10", dt.date(2026, 11, 3))
        li = session.scalar(select(Person.id).where(Person.slack_user_id == LI))
        asked = {i.metric for i in duties[li].items}
    assert "kpi.cpk" in asked
    assert not {"kpi.after_sales_ppm", "kpi.response_timeliness", "kpi_achievement_rate"} & asked


def test_the_card_says_provisional_and_shows_each_kpi(slack: SlackSender, ctx: AppContext, people: None,
                                                      clock: FixedClock, emulator: SlackEmulator,
                                                      tmp_path: Path) -> None:
    load_register(ctx, tmp_path)
    figure(ctx, "on_time_deliveries", "2026-10", "ACME", "40")
    figure(ctx, "kpi.cpk", "2026-10", "ACME", "1.2")
    clock.set(dt.datetime(2026, 11, 20, 10, tzinfo=SHANGHAI))
    answer = slack.command("/csat", "customer ACME 2026-10", LI).answer()
    text = json.dumps(answer, ensure_ascii=False)
    assert "暂定" in text and "售后PPM" in text and "关键过程能力" in text and "未达成" in text
    overview = json.dumps(slack.command("/csat", "overview 2026-10", LI).answer(), ensure_ascii=False)
    assert "暂定" in overview and "ACME" in overview


def test_an_upgraded_installation_keeps_its_history_as_it_was_scored(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from storage.db import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    command.upgrade(alembic_config(engine), "0006")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO settings (key, value, updated_at) VALUES ('data_call', "
                                "'{\"due_working_day\": 6}', '2026-01-01 00:00:00')"))
    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        value = json.loads(connection.execute(text("SELECT value FROM settings WHERE key = 'data_call'")).scalar_one())
    assert value["due_working_day"] == 6 and value["kpi_rate_required_from"] == dt.datetime.now(dt.UTC).strftime(
        "%Y-%m")
    engine.dispose()


def test_a_typed_rate_nobody_was_asked_for_keeps_full_marks(ctx: AppContext, people: None) -> None:
    from storage.models import Metric, SettingValue

    figure(ctx, "on_time_deliveries", "2026-10", "ACME", "40")
    closed = dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI)
    with ctx.session() as session:  # months before the rate was required keep their rule
        row = session.get(SettingValue, "data_call")
        assert row is not None
        row.value = {**row.value, "kpi_rate_required_from": "2026-11"}
    assert score(ctx, "2026-10", now=closed).kpi == 20
    with ctx.session() as session:
        row = session.get(SettingValue, "data_call")
        assert row is not None
        row.value = {**row.value, "kpi_rate_required_from": "2000-01"}
        metric = session.get(Metric, "kpi_achievement_rate")
        assert metric is not None
        metric.in_monthly_call = False  # not asked in the call
    assert score(ctx, "2026-10", now=closed).kpi == 20


def test_a_register_whose_kpis_are_all_retired_requires_none(ctx: AppContext, people: None, tmp_path: Path) -> None:
    load_register(ctx, tmp_path, "customer,kpi,name_zh,name_en,target,direction\n"
                                 "ACME,cpk,关键过程能力,Key process capability,1.33,higher\n")
    load_register(ctx, tmp_path, "customer,kpi,name_zh,name_en,target,direction,active\n"
                                 "ACME,cpk,关键过程能力,Key process capability,1.33,higher,no\n", valid_from="2026-10")
    figure(ctx, "on_time_deliveries", "2026-10", "ACME", "40")
    october = score(ctx, "2026-10", now=dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI))
    assert october.kpi == 20 and not october.provisional and october.kpi_missing == []
    with ctx.session() as session:
        li = session.scalar(select(Person.id).where(Person.slack_user_id == LI))
        asked = {i.metric for i in obligations(session, "2026-10", dt.date(2026, 11, 3))[li].items}
    assert not {"kpi.cpk", "kpi_achievement_rate"} & asked


def test_a_computed_kpi_does_not_make_an_idle_month_scored(ctx: AppContext, people: None, tmp_path: Path) -> None:
    load_register(ctx, tmp_path)
    figure(ctx, "field_3mis_ppm", "2026-08", "ACME", "120")  # typed every month, deliveries or not
    assert score(ctx, "2026-08") is None


def test_the_action_job_evaluates_a_month_again_when_it_closes(ctx: AppContext, people: None,
                                                              tmp_path: Path) -> None:
    from scheduled.jobs import evaluate_scorecard_actions
    from storage.models import CorrectiveAction

    load_register(ctx, tmp_path, "customer,kpi,name_zh,name_en,target,direction\n"
                                 "ACME,cpk,关键过程能力,Key process capability,1.33,higher\n"
                                 "ACME,regulatory_compliance,法规符合率,Regulatory compliance,100,higher\n")
    figure(ctx, "on_time_deliveries", "2026-10", "ACME", "40")
    figure(ctx, "customer_scorecard_pct", "2026-10", "ACME", "40")
    figure(ctx, "kpi.cpk", "2026-10", "ACME", "1.5")

    def keys() -> set[str]:
        with ctx.session() as session:
            return set(session.scalars(select(CorrectiveAction.trigger_key)))

    evaluate_scorecard_actions(ctx, dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC))  # due, still open: 30+30+20+8
    assert "monthly_below_target:ACME:2026-10" not in keys()
    assert score(ctx, "2026-10", now=dt.datetime(2026, 11, 10, 10, tzinfo=SHANGHAI)).total == 88
    evaluate_scorecard_actions(ctx, dt.datetime(2026, 12, 2, 2, tzinfo=dt.UTC))  # closed: 30+30+10+8 = 78
    assert score(ctx, "2026-10", now=dt.datetime(2026, 12, 2, 10, tzinfo=SHANGHAI)).total == 78
    assert "monthly_below_target:ACME:2026-10" in keys()
