"""What the application needs from a messenger. handlers/ implements it per messenger;
jobs receive it from the composition root, so scheduled/ never imports a messenger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.core.views import Home, Message


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class DeliveryError(Exception):
    """A failed delivery. `retry_after` set: try again after that many seconds.

    `permanent`: no retry will mend it. `in_doubt`: the messenger may have stored the message
    before the error reached us (a 5xx, a timeout), so look for it before sending again."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False,
                 in_doubt: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.in_doubt = in_doubt


class Messenger(Protocol):
    """`key` is the outbox key a message carries (Slack: message metadata), so that
    `find_sent` can tell whether an attempt that ended in doubt did land."""

    def post(self, channel: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted: ...

    def update(self, channel: str, ts: str, message: Message, key: str = "") -> Posted: ...

    def direct_message(self, user: str, message: Message, thread_ts: str | None = None,
                       key: str = "") -> Posted: ...

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Posted: ...

    def publish_home(self, user: str, home: Home) -> Posted: ...

    def upload_image(
        self, channel: str, png: bytes, filename: str, title: str, thread_ts: str | None = None, key: str = ""
    ) -> Posted: ...

    def find_sent(self, target: str, key: str, thread_ts: str | None, since: dt.datetime,
                  until: dt.datetime | None = None) -> Posted | None:
        """The message carrying `key` posted to `target` (a channel, or a user's direct
        messages) between `since` and `until`, in `thread_ts`'s thread if given; None when it
        is not there. Raises a transient DeliveryError when it cannot tell."""
        ...

    def user_locale(self, user: str) -> str | None: ...
