"""The bolt App: listeners parse, ask bot/, render. Nothing connects to Slack at import time.

Listeners run inline before the HTTP response (`process_before_response`): ack() carries
the answer and must come well inside Slack's 3 seconds. Outbound messages go to the outbox
first; a lazy listener delivers them right after the response, and whatever it cannot
deliver stays for the delivery job.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.webhook import WebhookClient
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.commands import help_message, unknown_command_message
from bot.core.context import AppContext
from bot.core.i18n import gettext_for, normalize_locale
from bot.core.texts import UserError, render_error
from bot.core.views import Home, Message
from bot.datacall.home import home_for
from bot.people.callers import identify, refusal
from handlers.slack.blockkit import render_message
from handlers.slack.messenger import make_client
from storage.db import insert_ignoring_conflicts
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)

HELP_WORDS = {"", "help", "帮助", "?", "？"}

# `/csat WORD …` → handler(ctx, caller, words, body) returning the ephemeral answer
Subcommand = Callable[[AppContext, Caller, list[str], dict[str, Any]], Message]


def ephemeral(message: Message) -> dict[str, Any]:
    text, blocks = render_message(message)
    return {"response_type": "ephemeral", "text": text, "blocks": blocks}


def first_time(session: Session, body: dict[str, Any], now: dt.datetime) -> bool:
    """Record an Events API event id in the listener's own transaction: Slack's retries of an
    event that was handled are ignored, and an event whose handling failed (the transaction
    rolled back) is handled when Slack retries it."""
    event_id = body.get("event_id")
    if not event_id:
        return True
    fresh = insert_ignoring_conflicts(session, ProcessedEvent, [{"event_id": event_id, "received_at": now}])
    if not fresh:
        log.info("event %s already handled; retry ignored", event_id)
    return bool(fresh)


def failure_message(locale: str) -> Message:
    _ = gettext_for(locale)
    text = _("Sorry, something went wrong on csatbot's side. Nothing you entered was lost; please try again, "
             "and tell a quality engineer if it keeps happening.")
    return Message(text=text)


class SlackBot:
    """The listeners, with what they share: the context and who is asking."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.subcommands: dict[str, Subcommand] = {}
        self.subcommand_permissions: dict[str, str] = {}

    def caller(self, user_id: str) -> Caller:
        """Who is asking; the messenger is asked for a locale outside any transaction."""
        with self.ctx.session() as session:
            caller = identify(session, user_id, self.ctx.locale)
        if caller.locale is None:
            caller.locale = normalize_locale(self.ctx.messenger.user_locale(user_id), self.ctx.locale)
        return caller

    def refuse(self, caller: Caller) -> Message:
        with self.ctx.session() as session:
            return refusal(session, caller)

    def deliver_pending(self) -> None:
        """Lazy listener: deliver what the request queued, after Slack has its answer."""
        try:
            self.ctx.deliverer.deliver_newest(self.ctx.now())
        except Exception:  # the delivery job retries whatever is left
            log.exception("immediate delivery failed")

    def tell(self, caller: Caller, body: dict[str, Any], respond: Any, message: Message, key: str) -> None:
        """Answer a button press where it was made: through the response URL for a message,
        by direct message for App Home (which has none)."""
        if body.get("response_url"):
            respond(**ephemeral(message), replace_original=False)
            return
        with self.ctx.session() as session:
            outbox.enqueue(session, key, "dm", caller.user_id, message, self.ctx.now())
        self.deliver_pending()

    def answer(self, caller: Caller, run: Callable[[], Message]) -> Message:
        """Run a use case; bad input comes back as a translated message, a crash as an apology."""
        try:
            return run()
        except UserError as error:
            return render_error(error, caller.locale)
        except Exception:
            log.exception("listener failed")
            return failure_message(caller.locale)

    def add_subcommand(self, words: tuple[str, ...], permission: str, handler: Subcommand) -> None:
        for word in words:
            self.subcommands[word] = handler
            self.subcommand_permissions[word] = permission

    def csat_command(self, ack: Ack, command: dict[str, Any], body: dict[str, Any]) -> None:
        caller = self.caller(command["user_id"])
        if not caller.known:
            ack(**ephemeral(self.refuse(caller)))
            return
        words = (command.get("text") or "").split()
        word = words[0].lower() if words else ""
        if word in HELP_WORDS:
            ack(**ephemeral(help_message(caller, self.ctx.authorizer)))
            return
        handler = self.subcommands.get(word)
        if handler is None:
            ack(**ephemeral(unknown_command_message(caller, self.ctx.authorizer, " ".join(words))))
            return
        if not self.ctx.authorizer.allows(caller.roles, self.subcommand_permissions[word]):
            _ = caller._
            ack(**ephemeral(Message(text=_("Your roles do not allow `/csat {word}`.").format(word=word))))
            return
        ack(**ephemeral(self.answer(caller, lambda: handler(self.ctx, caller, words[1:], body))))


def build_app(ctx: AppContext, executor: ThreadPoolExecutor | None = None) -> App:
    """`executor` runs the lazy listeners (deliveries after the response); pass one to be
    able to wait for them on shutdown."""
    settings = ctx.settings
    app = App(
        listener_executor=executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="csatbot-lazy"),
        signing_secret=settings.slack_signing_secret or "socket-mode-needs-no-signing-secret",
        # one Web API client for listeners and outbox delivery alike
        client=getattr(ctx.messenger, "client", None) or make_client(settings.slack_bot_token, settings.api_url),
        token_verification_enabled=False,
        process_before_response=True,
    )
    bot = SlackBot(ctx)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        """Whatever a listener did not handle: logged, and the person told where they acted."""
        log.error("unhandled error in a listener: %s", error, exc_info=error)
        url = body.get("response_url")
        if url:
            try:
                text, _blocks = render_message(failure_message(ctx.locale))
                WebhookClient(url).send(text=text, response_type="ephemeral", replace_original=False)
            except Exception:  # the apology is best effort
                log.exception("could not tell the user about the error")

    def app_home_opened(ack: Ack, event: dict[str, Any], body: dict[str, Any]) -> None:
        ack()
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        caller = bot.caller(user_id)
        with ctx.session() as session:
            if not first_time(session, body, ctx.now()):
                return
            home = (home_for(session, caller, ctx.authorizer, ctx.local_today()) if caller.known
                    else Home(cards=refusal(session, caller).cards))
            outbox.enqueue(session, f"home:{user_id}:{body.get('event_id')}", "home", user_id, home, ctx.now())

    from handlers.slack import complaints, csat, figures

    csat.register(app, bot)
    figures.register(app, bot)
    complaints.register(app, bot)
    app.command("/csat")(ack=bot.csat_command, lazy=[lambda: bot.deliver_pending()])
    app.event("app_home_opened")(ack=app_home_opened, lazy=[lambda: bot.deliver_pending()])
    return app
