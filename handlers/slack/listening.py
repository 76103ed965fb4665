"""What every Slack listener does around its one use case: who is asking, the request in
neutral terms, the reply rendered as Block Kit (an ephemeral message, a dialog opened, field
errors in the ack), and failures turned into a translated message instead of an error."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core.caller import Caller
from bot.core.commands import working_message
from bot.core.context import AppContext
from bot.core.delivery import tell_directly
from bot.core.i18n import gettext_for
from bot.core.inputs import clean_text, clean_values
from bot.core.replies import FAILURE, Reply, Request, Submitted
from bot.core.texts import T, UserError, render_error
from bot.core.views import Form, Message
from bot.people.callers import stored_locale, who_is_calling
from handlers.slack.blockkit import form_state, form_values, render_form, render_message

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def ephemeral(message: Message) -> dict[str, Any]:
    text, blocks, attachments = render_message(message)
    return {"response_type": "ephemeral", "text": text, "blocks": blocks, "attachments": attachments}


def failure_message(locale: str | None) -> Message:
    return Message(text=gettext_for(locale)(FAILURE))


def plain_mentions(text: str) -> str:
    """`<@U123|wang>` → `U123`: use cases take people by their messenger user id; control
    characters go (what people type never needs them)."""
    return MENTION.sub(lambda m: m.group(1), clean_text(text))


def action_key(body: dict[str, Any]) -> str:
    """What Slack sends once per button press: the action's time stamp."""
    actions = body.get("actions") or [{}]
    return str(actions[0].get("action_ts") or body.get("trigger_id") or "")


def dialog_key(view: dict[str, Any]) -> str:
    """What Slack sends once per dialog submission: the view's id and hash (a new page of the
    same dialog has a new hash)."""
    return ":".join(str(view.get(k) or "") for k in ("id", "hash")).strip(":")


def is_direct(channel_id: str | None) -> bool:
    """Slack's direct-message conversations have ids starting with D."""
    return str(channel_id or "").startswith("D")


class Listening:
    """The context, and the steps every listener shares."""

    def __init__(self, ctx: AppContext, later: Callable[[Callable[[], None]], object] | None = None) -> None:
        """`later` runs a small job beside the request (the deliveries of a saved dialog)."""
        self.ctx = ctx
        self.later = later or (lambda job: job())
        self._lazy_listeners = 0

    def caller(self, user_id: str) -> Caller:
        return who_is_calling(self.ctx, user_id)

    def command_request(self, command: dict[str, Any]) -> Request:
        channel = command.get("channel_id")
        return Request(self.caller(command["user_id"]), str(command.get("trigger_id") or ""), channel,
                       is_direct(channel))

    def action_request(self, body: dict[str, Any], action: dict[str, Any]) -> Request:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        return Request(self.caller(body["user"]["id"]), str(action.get("action_ts") or ""), channel,
                       is_direct(channel))

    def deliver_pending(self) -> None:
        """Lazy listener: deliver what the request queued, after Slack has its answer."""
        try:
            self.ctx.deliverer.deliver_newest(self.ctx.now())
        except Exception:  # the delivery job retries whatever is left
            log.exception("immediate delivery failed")

    def run(self, caller: Caller, use_case: Callable[[], Reply]) -> Reply:
        """Run a use case; bad input comes back as a translated message, a crash as an apology."""
        try:
            return use_case()
        except UserError as error:
            return Reply(message=render_error(error, caller.locale or self.ctx.locale))
        except Exception:
            log.exception("listener failed")
            return Reply(message=failure_message(caller.locale))

    def show(self, client: WebClient, trigger_id: str | None, caller: Caller, reply: Reply) -> Message | None:
        """Open the reply's dialog; what to tell the person (its message, or why the dialog
        could not open)."""
        if reply.form is not None:
            try:
                self.open_form(client, trigger_id, reply.form)
            except Exception:
                log.exception("could not open a dialog")
                return failure_message(caller.locale)
        return reply.message

    @staticmethod
    def open_form(client: WebClient, trigger_id: str | None, form: Form) -> None:
        client.views_open(trigger_id=trigger_id, view=render_form(form))

    def respond(self, respond: Respond, body: dict[str, Any], client: WebClient, caller: Caller,
                reply: Reply, dm_key: str = "told") -> None:
        """A button's reply: its dialog opened, its message as an ephemeral answer where the
        button was (replacing the button's message if the reply says so)."""
        message = self.show(client, body.get("trigger_id"), caller, reply)
        if message is not None and (message.text or message.cards):
            self.answer(respond, body, caller, message, reply.replace, f"{dm_key}:{caller.user_id}:{action_key(body)}")

    def answer(self, respond: Respond, body: dict[str, Any], caller: Caller, message: Message | None,
               replace: bool, dm_key: str) -> None:
        """An answer made after the response: through the response URL where there is one
        (`message` None deletes the acknowledgement, a dialog having opened instead); where
        there is none (App Home), or it fails, the person gets it in their direct messages."""
        url = str(body.get("response_url") or "")
        if url and self.ctx.settings.response_url_allowed(url):
            try:
                if message is None:
                    sent = respond(delete_original=True)
                else:
                    sent = respond(**ephemeral(message), replace_original=replace)
                if getattr(sent, "status_code", 200) == 200:
                    return
                log.warning("the response URL refused an answer: %s", getattr(sent, "status_code", None))
            except Exception:  # Slack unreachable: the answer goes the other way
                log.exception("could not answer through the response URL")
        if message is not None:
            tell_directly(self.ctx, caller, message, dm_key)
            self.deliver_pending()

    def command(self, route: Callable[[Request, str], Reply]) -> dict[str, Any]:
        """A slash command's listeners: the acknowledgement (one read, for the language) says
        what is coming; the use case runs after the response and its answer replaces it."""
        def acknowledge(ack: Ack, command: dict[str, Any]) -> None:
            typed = f"{command.get('command') or ''} {clean_text(command.get('text') or '')}"
            ack(**ephemeral(working_message(stored_locale(self.ctx, str(command.get("user_id") or "")), typed)))

        def work(command: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient) -> None:
            request = self.command_request(command)
            text = plain_mentions(command.get("text") or "")
            reply = self.run(request.caller, lambda: route(request, text))
            message = self.show(client, command.get("trigger_id"), request.caller, reply)
            self.answer(respond, body, request.caller, message, True, f"answer:{request.caller.user_id}:{request.key}")
            self.deliver_pending()
        return {"ack": acknowledge, "lazy": [self.after_response(work, replace=True)]}

    def button(self, use_case: Callable[[Request, dict[str, Any]], Reply], dm_key: str = "told") -> dict[str, Any]:
        """A button's listeners: ack at once; after the response, the use case runs with the
        request and the pressed action and answers where the button was (by a DM keyed
        `dm_key:…` from App Home), then what it queued is delivered."""
        def acknowledge(ack: Ack) -> None:
            ack()

        def work(body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
            action = clean_values(action)
            request = self.action_request(body, action)
            reply = self.run(request.caller, lambda: use_case(request, action))
            self.respond(respond, body, client, request.caller, reply, dm_key)
            self.deliver_pending()
        return {"ack": acknowledge, "lazy": [self.after_response(work, replace=False)]}

    def after_response(self, work: Callable[..., None], replace: bool) -> Callable[..., None]:
        """Work after the response that fails before it could answer (the database gone, a
        bug) still tells the person, replacing the acknowledgement of a command."""
        wanted = set(inspect.signature(work).parameters)

        def guarded(body: dict[str, Any], respond: Respond, client: WebClient, command: dict[str, Any] | None,
                    action: dict[str, Any] | None) -> None:
            given = {"body": body, "respond": respond, "client": client, "command": command, "action": action}
            try:
                work(**{name: value for name, value in given.items() if name in wanted})
            except Exception:
                log.exception("answering after the response failed")
                try:
                    if body.get("response_url") and self.ctx.settings.response_url_allowed(str(body["response_url"])):
                        respond(**ephemeral(failure_message(self.ctx.locale)), replace_original=replace)
                except Exception:  # nothing else is left to try
                    log.exception("could not tell the person")
        # bolt finds a lazy listener by its name, in this process or in an answer process that
        # built the same app: the names follow the order of registration, the same in each
        self._lazy_listeners += 1
        guarded.__name__ = f"{work.__name__}_{self._lazy_listeners}"
        return guarded

    def submission(self, use_case: Callable[[Caller, dict[str, Any], dict[str, Any], str], Submitted]
                   ) -> Callable[..., None]:
        """A listener for a dialog's submission: the use case gets the caller, the form's
        state and values and the dialog's id; its outcome goes back in the ack. What a saved
        dialog queued is delivered beside it; a refused one (field errors) costs nothing more,
        which is why this is not a bolt lazy listener (bolt copies every request for those)."""
        def listener(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            caller = self.caller(body["user"]["id"])
            values = clean_values(form_values(view.get("state") or {}))
            try:
                submitted = use_case(caller, clean_values(form_state(view)), values, dialog_key(view))
            except UserError as error:  # a use case that refuses by raising: the reason, in the dialog
                submitted = Submitted(problem=error.text)
            except Exception:  # a fault of ours: an apology in the dialog, which keeps what was typed
                log.exception("dialog %s failed", view.get("callback_id"))
                submitted = Submitted(problem=T(FAILURE))
            self.ack_submission(ack, caller, view, submitted)
            if submitted.accepted:
                self.later(self.deliver_pending)
        return listener

    @staticmethod
    def ack_submission(ack: Ack, caller: Caller, view: dict[str, Any], submitted: Submitted) -> None:
        """A dialog's submission is answered in the ack: field errors, the next page, or done."""
        _ = caller._
        if submitted.accepted and submitted.next_form is None:
            ack()
        elif submitted.accepted:
            ack(response_action="update", view=render_form(submitted.next_form))  # type: ignore[arg-type]
        else:
            errors = {key: text.render(_) for key, text in submitted.errors.items()}
            if submitted.problem is not None:
                first = next((b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"),
                             None) or "x"
                errors.setdefault(first, submitted.problem.render(_))
            ack(response_action="errors", errors=errors)
