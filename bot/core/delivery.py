"""Telling a person something outside the conversation they acted in."""

from __future__ import annotations

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.replies import Request
from bot.core.texts import T, Text
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


def message_sent_to(ctx: AppContext, caller: Caller, key: str) -> Message | None:
    """A message the bot sent a person, as it stands now, for that person only; None for
    anyone else, or a key never sent."""
    if not caller.known or not key:
        return None
    with ctx.session() as session:
        found = outbox.latest_message(session, key)
    if found is None:
        return None
    target, message = found
    return message if target == caller.user_id else None


def failed_messages(ctx: AppContext, limit: int = 100) -> list[outbox.FailedMessage]:
    """Messages that failed for good, the latest first (for `csatbot outbox failed`)."""
    with ctx.session() as session:
        return outbox.failed(session, limit)


def retry_failed(ctx: AppContext, row_id: int) -> bool:
    """Queue a failed message again; False if it is not (or no longer) failed."""
    with ctx.session() as session:
        return outbox.retry(session, row_id, ctx.now())


# Slack's words for why a message cannot be delivered, said for the people who can mend it
CAUSES: dict[str, Text] = {
    "channel_not_found": T("the channel does not exist, or csatbot cannot see it: invite csatbot to it"),
    "not_in_channel": T("csatbot is not a member of the channel: invite it"),
    "is_archived": T("the channel is archived"),
    "user_not_found": T("the person is no longer in the workspace"),
    "account_inactive": T("the person's account is deactivated"),
    "cannot_dm_bot": T("the recipient is a bot"),
    "invalid_blocks": T("Slack refused the message's layout (a csatbot fault: tell the administrator)"),
    "msg_too_long": T("the message is too long for Slack (a csatbot fault: tell the administrator)"),
    "invalid_auth": T("csatbot's Slack token is no longer valid: the administrator must reinstall the app"),
    "gave up after": T("Slack could not be reached for as long as the message mattered"),
    "never sent": T("the message it answers was never sent"),
}


def failure_cause(error: str) -> Text:
    """Why a message failed, in words a quality engineer can act on."""
    for marker, cause in CAUSES.items():
        if marker in error:
            return cause
    return T("Slack refused it ({error})", error=error[:120])
