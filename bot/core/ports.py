"""What the application needs from a messenger. handlers/ implements it per messenger;
jobs receive it from the composition root, so scheduled/ never imports a messenger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.views import Home, Message


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


class DeliveryError(Exception):
    """A failed delivery. `retry_after` set: try again after that many seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Messenger(Protocol):
    def post(self, channel: str, message: Message, thread_ts: str | None = None) -> Posted: ...

    def update(self, channel: str, ts: str, message: Message) -> Posted: ...

    def direct_message(self, user: str, message: Message, thread_ts: str | None = None) -> Posted: ...

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Posted: ...

    def publish_home(self, user: str, home: Home) -> Posted: ...

    def upload_image(
        self, channel: str, png: bytes, filename: str, title: str, thread_ts: str | None = None
    ) -> Posted: ...

    def user_locale(self, user: str) -> str | None: ...
