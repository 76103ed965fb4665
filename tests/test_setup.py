"""Configuration, schema upgrades, the refusal to run on an old schema, jobs as of any time,
and the demo company."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.context import AppContext
from bot.core.defaults import seed_defaults
from bot.core.settings import Settings, check, effective
from handlers.cli import main
from storage.db import make_engine, make_session_factory, schema_state, transaction
from storage.models import (
    Complaint,
    ComplaintDeadline,
    Customer,
    FigureSubmission,
    GradeBand,
    Metric,
    Person,
    Role,
    ScorecardEvent,
    ScorecardRule,
    SlaPolicy,
    SurveyResponse,
)


def test_settings_from_environment_and_toml(tmp_path: Path) -> None:
    config = tmp_path / "csatbot.toml"
    config.write_text('locale = "en"\nquality_channel = "C0FROMTOML"\nslack_bot_token = "xoxb-from-file"\n')
    settings = Settings.load({"SLACK_BOT_TOKEN": "xoxb-1234567890-secret", "HOME": str(tmp_path)}, str(config))
    assert settings.locale == "en" and settings.quality_channel == "C0FROMTOML"
    assert settings.slack_bot_token == "xoxb-1234567890-secret"  # environment wins
    assert settings.database_url == f"sqlite:///{tmp_path}/.local/share/csatbot/csatbot.sqlite3"
    shown = {name: (value, source) for name, value, source in effective(settings)}
    assert "secret" not in shown["SLACK_BOT_TOKEN"][0] and shown["SLACK_BOT_TOKEN"][1] == "SLACK_BOT_TOKEN"
    assert shown["CSATBOT_LOCALE"] == ("en", str(config))


def test_check_names_every_problem() -> None:
    settings = Settings(slack_bot_token="xoxp-user-token", slack_signing_secret="", timezone="Mars/Olympus",
                        locale="fr", quality_channel="#quality", database_url="mysql://x")
    names = {p.name for p in check(settings)}
    assert names == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "CSATBOT_TIMEZONE", "CSATBOT_LOCALE",
                     "CSATBOT_QUALITY_CHANNEL", "CSATBOT_DATABASE_URL"}
    assert "SLACK_APP_TOKEN" in {p.name for p in check(settings, socket_mode=True)}


def test_config_check_cli_masks_secrets(monkeypatch, capsys, database_url: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-111-222-verysecretvalue")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd0099aa85a5ff")
    monkeypatch.setenv("CSATBOT_QUALITY_CHANNEL", "C0QUALITY")
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["config", "check"]) == 0
    output = capsys.readouterr().out
    assert "verysecretvalue" not in output and "8f742231b10e8888abcd0099aa85a5ff" not in output
    assert "xoxb-…alue" in output
    assert "No problems found." in output
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    assert main(["config", "check"]) == 1
    output = capsys.readouterr().out
    assert "SLACK_BOT_TOKEN" in output and "解决方法" in output


def test_db_upgrade_twice_changes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    monkeypatch.setenv("CSATBOT_DATABASE_URL", url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["db", "status"]) == 1
    assert main(["people", "list"]) == 1
    assert "csatbot db upgrade" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(url)
    models = (Role, Metric, ScorecardRule, GradeBand, SlaPolicy)

    def counts() -> dict[str, int]:
        with make_session_factory(engine)() as session:
            return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in models}

    first = counts()
    assert first == {"Role": 14, "Metric": 19, "ScorecardRule": 17, "GradeBand": 4, "SlaPolicy": 8}
    assert main(["db", "upgrade"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert counts() == first
    assert schema_state(engine).up_to_date
    with transaction(make_session_factory(engine)) as session:
        assert not any(seed_defaults(session).values())


def test_seeded_rules_follow_the_procedure(ctx: AppContext) -> None:
    with ctx.session() as session:
        points = {r.event_type: (r.category, float(r.points)) for r in session.scalars(select(ScorecardRule))}
        grades = {g.key: float(g.min_score) for g in session.scalars(select(GradeBand))}
        sla = {(p.milestone, p.severity): (p.amount, p.unit) for p in session.scalars(select(SlaPolicy))}
        costs = set(session.scalars(select(Metric.key).where(Metric.visibility == "costs")))
    assert points["production_stop"] == ("quality", 10.0)
    assert points["delivery_notice_suspension"] == ("delivery", 8.0)
    assert len([k for k, (c, _p) in points.items() if c == "quality"]) == 9
    assert grades == {"very_satisfied": 90, "satisfied": 80, "average": 60, "unsatisfied": 0}
    assert sla[("eight_d", "*")] == (2, "working_days")
    assert sla[("register", "urgent")] == (1, "hours")
    assert costs == {"claim_cost", "return_cost", "after_sales_cost"}


def test_serve_refuses_without_credentials_or_on_an_old_schema(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", f"sqlite:///{tmp_path}/old.sqlite3")
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "SLACK_SIGNING_SECRET" in err and "README" in err
    assert main(["serve", "--socket-mode"]) == 2
    assert "SLACK_APP_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-3")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd0099aa85a5ff")
    assert main(["serve", "--port", "0"]) == 1
    assert "csatbot db upgrade" in capsys.readouterr().err


def test_jobs_run_due_as_of_any_time(settings: Settings, monkeypatch, capsys, emulator) -> None:  # type: ignore[no-untyped-def]
    for name, value in (("CSATBOT_DATABASE_URL", settings.database_url), ("SLACK_BOT_TOKEN", "xoxb-x"),
                        ("SLACK_API_URL", emulator.api_url), ("CSATBOT_QUALITY_CHANNEL", "C0QUALITY")):
        monkeypatch.setenv(name, value)
    assert main(["jobs", "run-due", "--now", "2026-12-20T09:00"]) == 0
    assert "已发送 1 条" in capsys.readouterr().out
    assert main(["jobs", "run-due", "--now", "2026-12-21T09:00:00+08:00"]) == 0
    assert len(emulator.calls_to("chat.postMessage")) == 1
    assert main(["jobs", "run-due", "--now", "yesterday"]) == 2


def test_demo_data_is_deterministic_and_complete(tmp_path: Path, template_database: str, database_url: str) -> None:
    from bot.demo.company import DemoSize, generate
    from bot.people.directory import is_empty

    now = dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)
    tz = Settings().tz

    def build(url: str) -> dict[str, object]:
        engine = make_engine(url)
        with transaction(make_session_factory(engine)) as session:
            assert is_empty(session)
            summary = generate(session, DemoSize(customers=31, months=24), seed=7, now=now, tz=tz)
        with make_session_factory(engine)() as session:
            figures = session.scalars(select(FigureSubmission.value).where(FigureSubmission.is_current.is_(True)))
            result = {
                "summary": summary,
                "figure_sum": str(sum(figures)),
                "periods": sorted(set(session.scalars(select(FigureSubmission.period)))),
                "states": sorted(set(session.scalars(select(Complaint.status)))),
                "names": [(c.name_zh, c.name_en) for c in session.scalars(select(Customer).order_by(Customer.code))],
                "roles": sorted({k for p in session.scalars(select(Person)) for k in p.role_keys}),
                "events": session.scalar(select(func.count()).select_from(ScorecardEvent)),
                "deadlines": session.scalar(select(func.count()).select_from(ComplaintDeadline)),
                "responses": session.scalar(select(func.count()).select_from(SurveyResponse)),
                "numbers": [c.number for c in session.scalars(select(Complaint).order_by(Complaint.received_at))],
            }
        engine.dispose()
        return result

    first = build(database_url)
    assert first["summary"]["customers"] == 31  # type: ignore[index]
    assert len(first["periods"]) == 24 and first["periods"][-1] == "2026-10"  # type: ignore[arg-type,index]
    assert first["states"] == sorted(["new", "acknowledged", "investigating", "eight_d", "waiting_customer",
                                      "closed", "reopened"])
    assert set(first["roles"]) >= {"sales_manager", "after_sales_engineer", "ipqc_engineer",  # type: ignore[arg-type]
                                   "manufacturing_engineer", "customer_service", "finance", "quality_engineer"}
    assert all(zh and en and zh != en for zh, en in first["names"])  # type: ignore[union-attr]
    assert first["events"] and first["deadlines"] and first["responses"]
    numbers: list[str] = first["numbers"]  # type: ignore[assignment]
    assert numbers == sorted(numbers) and numbers[-1].endswith("-" + f"{sum(n[3:7] == '2026' for n in numbers):04d}")
    json.dumps(first, default=str)
    if database_url.startswith("sqlite"):
        import shutil

        second_path = tmp_path / "second.sqlite3"
        shutil.copy(template_database, second_path)
        assert build(f"sqlite:///{second_path}") == first


def test_demo_data_refuses_a_filled_database(settings: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["demo-data", "--customers", "30", "--months", "3"]) == 0
    assert main(["demo-data"]) == 1
    assert "empty database" in capsys.readouterr().err


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_unknown_year_warning_reads_well(locale: str) -> None:
    from bot.calendar.unknown_years import unknown_year_warning

    message = unknown_year_warning(locale, 2027)
    assert "2027" in message.text and message.cards


def test_times_are_stored_as_instants_on_every_database(ctx: AppContext) -> None:
    from zoneinfo import ZoneInfo

    from storage.models import CalendarYear

    local = dt.datetime(2026, 10, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with ctx.session() as session:
        session.add(CalendarYear(year=2031, loaded_at=local))
    with ctx.session() as session:
        stored = session.get(CalendarYear, 2031)
        assert stored is not None
        assert stored.loaded_at == local and stored.loaded_at.utcoffset() == dt.timedelta(0)
        assert stored.loaded_at.hour == 0
    with ctx.session() as session, pytest.raises(Exception, match="naive"):
        session.add(CalendarYear(year=2032, loaded_at=dt.datetime(2026, 10, 1, 8, 0)))
        session.flush()


def test_the_models_match_the_migrations(ctx: AppContext) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    with ctx.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_run_due_needs_a_token(settings: Settings, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["jobs", "run-due"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_bad_settings_and_arguments_are_explained(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("CSATBOT_TIMEZONE", "Mars/Olympus")
    assert main(["db", "status"]) == 2
    assert "CSATBOT_TIMEZONE" in capsys.readouterr().err
    monkeypatch.delenv("CSATBOT_TIMEZONE")
    assert main(["--config", str(tmp_path / "absent.toml"), "db", "status"]) == 2
    assert "absent.toml" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["calendar", "show", "99999"])


def test_a_typo_in_the_configuration_file_names_the_nearest_key(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    config = tmp_path / "csatbot.toml"
    config.write_text('qualty_channel = "C0QUALITY"\n[permissions]\n"scorecard.record_evnt" = ["quality_engineer"]\n'
                      '"complaint.close" = ["qualty_engineer"]\n', encoding="utf-8")
    assert main(["--config", str(config), "db", "status"]) == 2
    err = capsys.readouterr().err
    assert "qualty_channel" in err and "quality_channel" in err
    assert "scorecard.record_evnt" in err and "scorecard.record_event" in err
    assert "'qualty_engineer' is not a role" in err and "Did you mean quality_engineer?" in err
    config.write_text('quality_channel = "C0QUALITY"\n[permissions]\n"complaint.close" = ["quality_engineer"]\n',
                      encoding="utf-8")
    assert main(["--config", str(config), "db", "status"]) in (0, 1)
    assert "is not a" not in capsys.readouterr().err


def test_an_unreachable_database_is_one_line_with_the_password_masked(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", "postgresql+psycopg://csat:s3cret@127.0.0.1:1/csatbot")
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["people", "list"]) == 1
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "s3cret" not in said and "csat:****@127.0.0.1:1" in said
    assert "did not answer" in said and "--debug" in said
    with pytest.raises(Exception, match="Connection refused|connection failed"):
        main(["--debug", "people", "list"])


def test_help_is_in_the_readers_language_with_every_option_described(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_LOCALE", "zh-CN")
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    shown = capsys.readouterr().out
    assert shown.startswith("用法：") and "显示本帮助并退出" in shown and "usage" not in shown
    assert "监听的端口（默认：8000）" in shown
    with pytest.raises(SystemExit):
        main(["complaints", "list", "--status", "nonsense"])
    assert "无效的选项：'nonsense'" in capsys.readouterr().err


def test_the_command_line_hands_over_anyones_role_as_an_administrator(ctx: AppContext, people: None,
                                                                      monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CSATBOT_DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("CSATBOT_LOCALE", "en")
    assert main(["deputy", "add", "--person", "黄蕾", "--deputy", "U0DH00001", "--role", "quality_engineer",
                 "--from", "2026-10-01", "--to", "2026-10-31"]) == 1
    assert "is not one of 黄蕾's roles (finance)" in capsys.readouterr().err
    assert main(["deputy", "add", "--person", "黄蕾", "--deputy", "马俊", "--role", "finance",
                 "--from", "2026-10-01", "--to", "2026-10-31"]) == 0
    assert "马俊 stands in for 黄蕾" in capsys.readouterr().out


def test_serve_refuses_a_token_slack_refuses_once_at_start(settings: Settings, ctx: AppContext, monkeypatch,
                                                           capsys, emulator) -> None:  # type: ignore[no-untyped-def]
    emulator.refused_tokens.add("xoxb-revoked")
    for name, value in (("CSATBOT_DATABASE_URL", settings.database_url), ("SLACK_BOT_TOKEN", "xoxb-revoked"),
                        ("SLACK_SIGNING_SECRET", "8f742231b10e8888abcd0099aa85a5ff"),
                        ("SLACK_API_URL", emulator.api_url), ("CSATBOT_LOCALE", "en")):
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0"]) == 2
    said = capsys.readouterr().err
    assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in said and "OAuth & Permissions" in said
    assert [c.method for c in emulator.calls] == ["auth.test"]  # checked once; nothing else was tried


def test_bolt_says_nothing_about_the_token_beside_the_client(ctx: AppContext, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from handlers.slack.app import build_app

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    with caplog.at_level("WARNING"):
        build_app(ctx)
    assert "will be unused" not in caplog.text
