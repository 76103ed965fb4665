"""The bolt App: listeners parse, ask bot/, render. Nothing connects to Slack at import time."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltResponse

from bot import outbox
from bot.assistant import Caller, help_message, home_view, identify, refusal, unknown_command_message
from bot.context import AppContext
from bot.views import Home, Message
from handlers.slack.blockkit import render_message
from handlers.slack.messenger import make_client
from storage.db import insert_ignoring_conflicts
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "帮助", "?", "？"}


def ephemeral(message: Message) -> dict[str, Any]:
    text, blocks = render_message(message)
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


def build_app(ctx: AppContext) -> App:
    settings = ctx.settings
    app = App(
        signing_secret=settings.slack_signing_secret or "socket-mode-needs-no-signing-secret",
        client=make_client(settings.slack_bot_token, settings.api_url),
        token_verification_enabled=False,
        # Listeners run inline before the HTTP response: ack() carries the answer, and a
        # listener must finish well inside Slack's 3 seconds.
        process_before_response=True,
    )

    def caller_of(user_id: str) -> Caller:
        with ctx.session() as session:
            return identify(session, user_id, ctx.locale, ctx.messenger.user_locale)

    @app.middleware
    def answer_event_retries_once(body: dict[str, Any], next: Any) -> BoltResponse | None:  # noqa: A002
        """Slack retries an event it thinks was missed; the event id is recorded once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with ctx.session() as session:
                fresh = insert_ignoring_conflicts(
                    session, ProcessedEvent, [{"event_id": event_id, "received_at": ctx.now()}]
                )
            if not fresh:
                log.info("event %s already handled; retry ignored", event_id)
                return BoltResponse(status=200, body="")
        next()
        return None

    @app.command("/csat")
    def csat_command(ack: Ack, command: dict[str, Any]) -> None:
        caller = caller_of(command["user_id"])
        text = (command.get("text") or "").strip()
        with ctx.session() as session:
            if not caller.known:
                ack(**ephemeral(refusal(session, caller)))
                return
        word = text.split()[0].lower() if text else ""
        if word in HELP_WORDS:
            ack(**ephemeral(help_message(caller, ctx.authorizer)))
        else:
            ack(**ephemeral(unknown_command_message(caller, ctx.authorizer, text)))

    @app.event("app_home_opened")
    def app_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        caller = caller_of(user_id)
        key = f"home:{user_id}:{body.get('event_id')}"
        with ctx.session() as session:
            if caller.known:
                home = home_view(caller, ctx.authorizer)
            else:
                home = Home(cards=refusal(session, caller).cards)
            outbox.enqueue(session, key, "home", user_id, home, ctx.now())
        ctx.deliver_now(key)

    return app
