"""Test harness: a fresh database per test (SQLite by default, PostgreSQL when
CSATBOT_TEST_DATABASE_URL names a server), the Slack emulator, the real bolt App served
over HTTP, and an injected clock."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bot.core.clock import FixedClock
from bot.core.context import AppContext
from bot.core.defaults import seed_defaults
from bot.core.i18n import gettext_for
from bot.core.settings import Settings
from bot.core.spreadsheets import format_errors
from bot.datacall.figures import import_figures
from bot.scorecard.events import import_events
from handlers.bootstrap import RunningBot, bootstrap
from handlers.server import BackgroundServer
from handlers.testing.slack_emulator import SlackEmulator, SlackSender
from storage.db import make_engine, make_session_factory, transaction, upgrade_schema
from storage.models import Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 10, 20, 2, 0, tzinfo=dt.UTC)
SIGNING_SECRET = "8f742231b10e8888abcd0099aa85a5ff"
POSTGRES_URL = os.environ.get("CSATBOT_TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("CSATBOT_TEST_REQUIRE_POSTGRES") == "1"

PEOPLE_CSV = """slack_user_id,name,roles,department,locale,email
U0QE00001,王静,quality_engineer,质量部,zh-CN,wang.jing@example.com
U0QE00002,Anna Schmidt,quality_engineer,Quality,en,anna@example.com
U0SM00001,李强,sales_manager;customer_service,销售部,zh-CN,
U0SM00002,David Miller,sales_manager,Sales,en,
U0FI00001,黄蕾,finance,财务部,,
U0DH00001,马俊,department_head,质量部,zh-CN,
"""
CUSTOMERS_CSV = """code,name_zh,name_en,segment,owner_slack_user_id
ACME,艾克美汽车,ACME Motors,passenger OEM,U0SM00001
HDQC,华东汽车,Huadong Automotive,passenger OEM,U0SM00002
"""


def pytest_report_header(config: pytest.Config) -> str:
    return f"csatbot database backend: {'postgresql' if POSTGRES_URL else 'sqlite'}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_POSTGRES and not POSTGRES_URL.startswith("postgresql"):
        raise pytest.UsageError("CSATBOT_TEST_REQUIRE_POSTGRES=1 but CSATBOT_TEST_DATABASE_URL names no PostgreSQL")


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated and seeded once; each test gets a copy."""
    if POSTGRES_URL:
        name = f"csatbot_template_{uuid.uuid4().hex[:8]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade_schema(engine)
        with transaction(make_session_factory(engine)) as session:
            seed_defaults(session)
        engine.dispose()
        yield name
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        upgrade_schema(engine)
        with transaction(make_session_factory(engine)) as session:
            seed_defaults(session)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, seeded database for one test."""
    if POSTGRES_URL:
        name = f"csatbot_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path / "csatbot.sqlite3"
        shutil.copy(template_database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(dt.datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def emulator(clock: FixedClock) -> Iterator[SlackEmulator]:
    emulator = SlackEmulator(now=lambda: clock.now().timestamp()).start()
    for user_id, name, locale in [("U0QE00001", "王静", "zh-CN"), ("U0QE00002", "Anna Schmidt", "en-US"),
                                  ("U0SM00001", "李强", "zh-CN"), ("U0SM00002", "David Miller", "en-GB"),
                                  ("U0FI00001", "黄蕾", "zh-CN"), ("U0DH00001", "马俊", "zh-CN"),
                                  ("U0STRANGR", "Stranger", "en-US"), ("U0STRANZH", "陌生人", "zh-CN")]:
        emulator.workspace.add_user(user_id, name, locale)
    emulator.workspace.add_channel("C0QUALITY", "quality", ["U0QE00001", "U0QE00002"])
    emulator.workspace.add_channel("C0GENERAL", "general")
    yield emulator
    emulator.stop()
    assert emulator.invalid == [], f"the bot sent Block Kit that slack_sdk rejects: {emulator.invalid}"


@pytest.fixture
def settings(database_url: str, emulator: SlackEmulator, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, slack_bot_token="xoxb-test-token", slack_signing_secret=SIGNING_SECRET,
                    slack_api_url=emulator.api_url, timezone="Asia/Shanghai", locale="zh-CN",
                    quality_channel="C0QUALITY", data_dir=str(tmp_path))


def at_once(work: Callable[[Any], object], targets: Iterable[Any], timeout: float = 60) -> list[BaseException]:
    """Run `work` on each target in its own thread, all released together (two replicas,
    two people); returns what went wrong."""
    targets = list(targets)
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Any) -> None:
        try:
            barrier.wait()
            work(target)
        except BaseException as error:  # reported to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return errors


class SleepRecorder(list[float]):
    """Stands in for time.sleep in the Web API client: records the waits, waits not."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def ctx(settings: Settings, clock: FixedClock, sleeps: SleepRecorder) -> Iterator[AppContext]:
    context = bootstrap(settings, clock=clock, sleep=sleeps)
    yield context
    context.engine.dispose()


@pytest.fixture
def people(ctx: AppContext, tmp_path: Path) -> None:
    from bot.people.directory import import_customers, import_people

    (tmp_path / "people.csv").write_text(PEOPLE_CSV, encoding="utf-8")
    (tmp_path / "customers.csv").write_text(CUSTOMERS_CSV, encoding="utf-8")
    with ctx.session() as session:
        assert import_people(session, tmp_path / "people.csv").ok
        assert import_customers(session, tmp_path / "customers.csv").ok


@pytest.fixture
def scored(ctx: AppContext, people: None, tmp_path: Path) -> AppContext:
    """ACME delivers every month of 2026 and loses points in some; HDQC is idle."""
    rows = ["metric,month,customer,value"]
    for month in range(1, 10):
        rows.append(f"on_time_deliveries,2026-{month:02d},ACME,40")
        rows.append(f"kpi_achievement_rate,2026-{month:02d},ACME,{90 if month != 9 else 75}")
    rows.append("customer_scorecard_pct,2026-09,艾克美汽车,80")
    rows.append("survey_score,2026-08,ACME Motors,50")
    rows.append("line_fpy,2026-09,,97.5")
    rows.append("claim_cost,2026-09,ACME,12345.5")
    (tmp_path / "figures.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "events.csv").write_text(
        "customer,date,type,count,note\n"
        "ACME,2026-07-03,packaging_nonconformity,1,标签错误\n"
        "ACME,2026-08-12,packaging_nonconformity,2,\n"
        "ACME,2026-09-05,packaging_nonconformity,1,\n"
        "ACME,2026-09-18,production_stop,1,客户总装线停线 <!channel>\n",
        encoding="utf-8")
    with ctx.session() as session:
        by = session.scalar(select(Person.id).where(Person.slack_user_id == "U0QE00001"))
        figures = import_figures(session, tmp_path / "figures.csv", NOW, by=by)
        assert figures.ok, format_errors(figures.errors, gettext_for("en"))
        events = import_events(session, tmp_path / "events.csv", NOW, by=by)
        assert events.ok, format_errors(events.errors, gettext_for("en"))
    return ctx


@pytest.fixture
def running_bot(ctx: AppContext) -> Iterator[RunningBot]:
    running = RunningBot(ctx, scheduler=False, lazy_workers=4)
    yield running
    running.stop()  # deliveries after the response finish before the database goes


@pytest.fixture
def bot_server(running_bot: RunningBot) -> BackgroundServer:
    return running_bot.serve_in_background(threads=4)


@pytest.fixture
def slack(bot_server: BackgroundServer, running_bot: RunningBot, emulator: SlackEmulator) -> SlackSender:
    """Sends signed Slack requests to the running bot; response_url replies go to the emulator.
    Each request returns once the bot has also done what it does after the response (the
    scenario's next step sees it); `raw_slack` does not wait."""
    return SlackSender(bot_server.url + "/slack/events", SIGNING_SECRET, emulator=emulator,
                       settle=running_bot.executor.wait_idle)


@pytest.fixture
def raw_slack(bot_server: BackgroundServer, emulator: SlackEmulator) -> SlackSender:
    """Like `slack`, but returns at the response: for what must hold before the bot's later work."""
    return SlackSender(bot_server.url + "/slack/events", SIGNING_SECRET, emulator=emulator)
