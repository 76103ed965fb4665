"""Telling a person something outside the conversation they acted in."""

from __future__ import annotations

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.views import Message


def tell_directly(ctx: AppContext, caller: Caller, message: Message, key: str) -> None:
    """A direct message (e.g. an answer to a button in App Home, which has no conversation)."""
    with ctx.session() as session:
        outbox.enqueue(session, key, "dm", caller.user_id, message, ctx.now())
