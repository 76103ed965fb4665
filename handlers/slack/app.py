"""The bolt App: each listener parses the payload, calls one use case, renders what it
returns and acks. Nothing connects to Slack at import time.

Ack first: the acknowledging listener runs inline before the HTTP response
(`process_before_response`, so no thread hand-off delays it) and does only what the ack must
carry: a command's "working on it" in the person's language, a dialog's field errors. The
use case runs after the response (a lazy listener) and its answer replaces the
acknowledgement through the response URL. Outbound messages go to the outbox first; the
lazy listener delivers them, and whatever it cannot deliver stays for the delivery job.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.conversation import commands
from bot.conversation.home import open_home
from bot.conversation.routes import BUTTONS, DM_KEYS, SUBMISSIONS
from bot.core.context import AppContext
from handlers.slack import figures, scorecard
from handlers.slack.blockkit import render_message
from handlers.slack.listening import Listening, failure_message
from handlers.slack.messenger import make_client

log = logging.getLogger(__name__)
BOLT_NOISE = ("As you gave `client` as well, `token` will be unused.",)


class _QuietBolt(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN in the environment is unused beside the client it is
    given (the same token): true, and no use to an operator."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in BOLT_NOISE


def refused_token(token: str, base_url: str) -> str | None:
    """Slack's reason for refusing the bot token (`invalid_auth`, `token_revoked`, …), checked
    once at start; None when Slack accepts it or cannot be reached (an outage is not a reason
    to stay down: the outbox keeps what cannot be delivered)."""
    try:
        make_client(token, base_url, retries=0, timeout=5).auth_test()
    except SlackApiError as error:
        return str(error.response.get("error") or error.response.status_code)
    except Exception as error:  # noqa: BLE001 - unreachable: say so, start anyway
        log.warning("could not check the bot token with auth.test: %s", error)
    return None


def build_app(ctx: AppContext, executor: ThreadPoolExecutor | None = None) -> App:
    """`executor` runs the lazy listeners (deliveries after the response); pass one to be
    able to wait for them on shutdown."""
    settings = ctx.settings
    lazy = executor or ThreadPoolExecutor(max_workers=8, thread_name_prefix="csatbot-lazy")
    bolt_log = logging.getLogger("csatbot.bolt")
    bolt_log.addFilter(_QuietBolt())
    app = App(
        logger=bolt_log,
        listener_executor=lazy,
        signing_secret=settings.slack_signing_secret or "socket-mode-needs-no-signing-secret",
        # one Web API client for listeners and outbox delivery alike
        client=getattr(ctx.messenger, "client", None) or make_client(settings.slack_bot_token, settings.api_url),
        token_verification_enabled=False,
        request_verification_enabled=False,  # the WSGI front door verifies every request before bolt sees it
        process_before_response=True,
    )
    listening = Listening(ctx, later=lazy.submit)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        """Whatever a listener did not handle: logged, and the person told where they acted."""
        log.error("unhandled error in a listener: %s", error, exc_info=error)
        url = body.get("response_url") if isinstance(body, dict) else None
        if isinstance(url, str) and ctx.settings.response_url_allowed(url):
            lazy.submit(apologise, url)

    def apologise(url: str) -> None:
        """After the response, with a short timeout: a slow URL never holds a request thread."""
        try:
            text = render_message(failure_message(ctx.locale)).text
            WebhookClient(url, timeout=5).send(text=text, response_type="ephemeral", replace_original=False)
        except Exception:  # the apology is best effort
            log.exception("could not tell the user about the error")

    def acknowledge(ack: Ack) -> None:
        ack()

    def app_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            open_home(ctx, listening.caller(event["user"]), body.get("event_id"))
        listening.deliver_pending()

    app.command("/csat")(**listening.command(lambda request, text: commands.csat(ctx, request, text)))
    app.command("/complaint")(**listening.command(lambda request, text: commands.complaint(ctx, request, text)))
    app.event("app_home_opened")(ack=acknowledge, lazy=[app_home_opened])
    for action_id, pressed in BUTTONS.items():
        app.action(action_id)(**listening.button(
            lambda request, action, pressed=pressed: pressed(ctx, request, str(action.get("action_id") or ""),
                                                             str(action.get("value") or "")),
            dm_key=DM_KEYS.get(action_id, "told")))
    for kind, submitted in SUBMISSIONS.items():
        app.view(kind)(listening.submission(
            lambda caller, state, values, dialog, submitted=submitted: submitted(ctx, caller, state, values, dialog)))
    scorecard.register(app, listening)
    figures.register(app, listening)
    return app
