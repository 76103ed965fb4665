"""The composition root: the one place that wires settings, storage, clock, messenger, the
bolt app, the HTTP server and the scheduler, real or fake. `serve`, `serve --local`, the
demo, the tests and the benchmarks all build the running system here."""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.core.clock import Clock, SystemClock
from bot.core.context import AppContext
from bot.core.defaults import seed_defaults
from bot.core.outbox import MIRRORS, PERSONAL_COPIES, Deliverer, Pacer
from bot.core.ports import Messenger
from bot.core.roles import Authorizer
from bot.core.settings import Settings
from bot.demo.company import DemoSize, generate
from bot.people.directory import is_empty, list_people
from handlers.server import BackgroundServer, WSGIApp, make_wsgi
from handlers.slack.app import build_app
from handlers.slack.messenger import SlackMessenger, make_client
from handlers.testing.slack_emulator import SlackEmulator
from scheduled.scheduler import Elected, build_scheduler
from storage.db import make_engine, make_session_factory, schema_state, transaction, upgrade_schema


class SchemaOutOfDate(SystemExit):
    pass


def bootstrap(settings: Settings, *, clock: Clock | None = None, messenger: Messenger | None = None,
              engine: Engine | None = None, worker: str | None = None,
              sleep: Callable[[float], None] | None = None) -> AppContext:
    """`sleep` replaces the Web API client's and the pacer's waits (tests record them)."""
    engine = engine or make_engine(settings.database_url)
    factory = make_session_factory(engine)
    copies: dict[str, object] = {}
    if settings.wecom_configured and settings.direct_messages == "both":
        copies[PERSONAL_COPIES] = "wecom"
    if settings.wecom_configured and (settings.wecom_quality_chat or settings.wecom_robot_key):
        from handlers.wecom.messenger import CHAT_PREFIX, ROBOT_PREFIX

        group = (CHAT_PREFIX + settings.wecom_quality_chat if settings.wecom_quality_chat
                 else ROBOT_PREFIX + settings.wecom_robot_key)
        if settings.quality_channel:  # a company in both: the WeCom group gets a copy of every channel post
            copies[MIRRORS] = {settings.quality_channel: group}
        else:  # in WeCom only: the group is the quality channel
            settings = replace(settings, quality_channel=group)
    if copies:
        factory.configure(info=copies)
    wait = sleep if sleep is not None else time.sleep
    pacer = Pacer(float(settings.messages_per_second), wait)
    clock = clock or SystemClock()
    if messenger is None:
        client = make_client(settings.slack_bot_token, settings.api_url, sleep=wait,
                             on_rate_limited=pacer.rate_limited)
        messenger = SlackMessenger(client)
    if settings.wecom_configured:  # one outbox, each target delivered by its messenger
        from handlers.wecom.messenger import RoutingMessenger, WeComMessenger

        messenger = RoutingMessenger(messenger, WeComMessenger(settings, lambda: transaction(factory), clock.now))
    overrides = settings.extra.get("permissions") if isinstance(settings.extra.get("permissions"), dict) else None
    return AppContext(
        settings=settings, engine=engine, factory=factory, clock=clock, messenger=messenger,
        authorizer=Authorizer(overrides),
        deliverer=Deliverer(factory, messenger, clock, worker, pacer, settings.retry_horizon, wait),
    )


def require_current_schema(engine: Engine, gettext: object = None) -> None:
    """Refuse to run on a database whose schema is missing or older than this code."""
    from bot.core.i18n import gettext_for

    _ = gettext if callable(gettext) else gettext_for("en")
    state = schema_state(engine)
    if not state.up_to_date:
        raise SchemaOutOfDate(
            _("The database schema is out of date (database: {current}, this version: {head}). "
              "Run `csatbot db upgrade` first.").format(current=state.current or _("empty"), head=state.head)
        )


def _yield_to_acks() -> None:
    """A thread that works after responses runs at a lower priority than those that respond
    (Linux gives each thread its own), so that on a busy machine an ack is not kept waiting
    for a chart. Elsewhere it changes nothing."""
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WorkAfterResponse.NICENESS)
        except OSError:
            pass


class WorkAfterResponse(ThreadPoolExecutor):
    """The threads that run what comes after each response (answers, deliveries), counting
    what is still to run so that a caller can wait until all of it is done (a test's next
    step, the demo page's next look, a clean shutdown)."""

    NICENESS = 5

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="csatbot-lazy", initializer=_yield_to_acks)
        self._pending = 0
        self._settled = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._settled:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._settled:
            self._pending -= 1
            self._settled.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once nothing is left to run (work that queues more work is waited for too)."""
        with self._settled:
            return self._settled.wait_for(lambda: self._pending == 0, timeout)


class RunningBot:
    """The bot as it runs: the context, the bolt app over WSGI (Slack's events and the health
    check) and, if asked, the scheduler. `executor` runs the deliveries after each response;
    stop() waits for them."""

    def __init__(self, ctx: AppContext, *, scheduler: bool = True, lazy_workers: int = 8) -> None:
        self.ctx = ctx
        self.executor = WorkAfterResponse(lazy_workers)
        self.app = build_app(ctx, self.executor)
        self.wsgi: WSGIApp = make_wsgi(ctx, self.app, self.executor)
        self.elected = Elected(ctx)
        self.scheduler = build_scheduler(ctx, self.elected) if scheduler else None
        self.server: BackgroundServer | None = None

    def start(self) -> RunningBot:
        if self.scheduler is not None:
            self.scheduler.start()
        return self

    def serve_in_background(self, wsgi: WSGIApp | None = None, host: str = "127.0.0.1", port: int = 0,
                            threads: int = 8) -> BackgroundServer:
        self.server = BackgroundServer(wsgi or self.wsgi, host=host, port=port, threads=threads).start()
        return self.server

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            self.elected.resign()
        if self.server is not None:
            self.server.stop()
        self.executor.shutdown(wait=True)  # deliveries after the response finish before the database goes


# --- a machine without a Slack workspace: serve --local and the demo ----------------------------------


def sandbox_settings(settings: Settings, filename: str) -> Settings:
    """The embedded default database is replaced by a sandbox of its own, so that what an
    emulator "delivers" never counts as sent for real; a database the operator named is kept."""
    if settings.sources.get("database_url", "default") == "default":
        return replace(settings, database_url="sqlite:///" + str(Path(settings.data_dir) / filename))
    return settings


def prepare_demo_database(settings: Settings, size: DemoSize | None = None) -> tuple[bool, list[dict[str, Any]]]:
    """Migrate, seed, and fill an empty database with the demo company; (whether it was
    filled now, the people)."""
    engine = make_engine(settings.database_url)
    try:
        upgrade_schema(engine)
        with transaction(make_session_factory(engine)) as session:
            seed_defaults(session)
            fresh = is_empty(session)
            if fresh:
                generate(session, size or DemoSize(), seed=1, now=dt.datetime.now(dt.UTC), tz=settings.tz)
            return fresh, list_people(session)
    finally:
        engine.dispose()


def emulated_workspace(settings: Settings, people: list[dict[str, Any]], channels: dict[str, str],
                       secret: str, **overrides: Any) -> tuple[SlackEmulator, Settings]:
    """The Slack Web API emulator with the people as its users and the channels (id → name)
    with everyone in them; the settings that point the bot at it, signing with `secret`."""
    emulator = SlackEmulator().start()
    for person in people:
        emulator.workspace.add_user(person["slack_user_id"], person["name"], person["locale"] or settings.locale)
    members = [p["slack_user_id"] for p in people]
    for channel_id, name in channels.items():
        emulator.workspace.add_channel(channel_id, name, members)
    local = replace(settings, slack_api_url=emulator.api_url, slack_signing_secret=secret, slack_app_token="",
                    **overrides)
    return emulator, local
