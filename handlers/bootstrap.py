"""The composition root: the one place that wires settings, storage, clock and messenger."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine

from bot.core.clock import Clock, SystemClock
from bot.core.context import AppContext
from bot.core.outbox import Deliverer, Pacer
from bot.core.ports import Messenger
from bot.core.roles import Authorizer
from bot.core.settings import Settings
from handlers.slack.messenger import SlackMessenger, make_client
from storage.db import make_engine, make_session_factory, schema_state


class SchemaOutOfDate(SystemExit):
    pass


def bootstrap(settings: Settings, *, clock: Clock | None = None, messenger: Messenger | None = None,
              engine: Engine | None = None, worker: str | None = None,
              sleep: Callable[[float], None] | None = None) -> AppContext:
    """`sleep` replaces the Web API client's and the pacer's waits (tests record them)."""
    engine = engine or make_engine(settings.database_url)
    factory = make_session_factory(engine)
    wait = sleep if sleep is not None else time.sleep
    pacer = Pacer(float(settings.messages_per_second), wait)
    if messenger is None:
        client = make_client(settings.slack_bot_token, settings.api_url, sleep=wait,
                             on_rate_limited=pacer.rate_limited)
        messenger = SlackMessenger(client)
    overrides = settings.extra.get("permissions") if isinstance(settings.extra.get("permissions"), dict) else None
    clock = clock or SystemClock()
    return AppContext(
        settings=settings, engine=engine, factory=factory, clock=clock, messenger=messenger,
        authorizer=Authorizer(overrides), deliverer=Deliverer(factory, messenger, clock, worker, pacer),
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
