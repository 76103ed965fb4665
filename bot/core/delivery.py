"""Telling a person something outside the conversation they acted in."""

from __future__ import annotations

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.replies import Request
from bot.core.views import Message


def tell_directly(ctx: AppContext, caller: Caller, message: Message, key: str) -> None:
    """A direct message (e.g. an answer to a button in App Home, which has no conversation)."""
    with ctx.session() as session:
        outbox.enqueue(session, key, "dm", caller.user_id, message, ctx.now())


def send_private_chart(ctx: AppContext, request: Request, png: bytes | None, title: str) -> bool:
    """A chart for the asker alone goes to their direct messages with the bot (or the DM they
    asked in): an ephemeral answer cannot carry an uploaded image. True if one was queued."""
    if png is None:
        return False
    target = request.place if request.direct and request.place else request.caller.user_id
    with ctx.session() as session:
        outbox.enqueue(session, f"chart:{request.caller.user_id}:{request.key}", "image", target, None, ctx.now(),
                       image=png, image_title=title)
    return True


def failed_messages(ctx: AppContext, limit: int = 100) -> list[outbox.FailedMessage]:
    """Messages that failed for good, the latest first (for `csatbot outbox failed`)."""
    with ctx.session() as session:
        return outbox.failed(session, limit)


def retry_failed(ctx: AppContext, row_id: int) -> bool:
    """Queue a failed message again; False if it is not (or no longer) failed."""
    with ctx.session() as session:
        return outbox.retry(session, row_id, ctx.now())
