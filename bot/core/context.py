"""What every use case and job needs, wired once by the composition root."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.clock import Clock
from bot.core.outbox import Deliverer
from bot.core.ports import Messenger
from bot.core.roles import Authorizer
from bot.core.settings import Settings
from storage.db import transaction


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock
    messenger: Messenger
    authorizer: Authorizer
    deliverer: Deliverer
    # the language each person was last acknowledged in, and until when it is trusted (monotonic)
    ack_locales: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict, repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    @property
    def locale(self) -> str:
        return self.settings.locale

    def now(self) -> dt.datetime:
        return self.clock.now()

    def local_today(self) -> dt.date:
        return self.clock.now().astimezone(self.tz).date()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on error."""
        with transaction(self.factory) as session:
            yield session

    def deliver_now(self, *keys: str) -> None:
        """Try the named outbox rows at once (a reply the person is waiting for); whatever
        fails stays in the outbox for the delivery job."""
        self.deliverer.deliver_due(self.now(), keys=list(keys))
