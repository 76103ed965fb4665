"""The monthly data call in Slack: the call's button, the figures dialog's pages and its
closing (a draft is kept)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.datacall import use_cases
from handlers.slack.blockkit import form_state, form_values
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx

    def open_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        try:
            choice = json.loads(action.get("value") or "{}")
        except ValueError:
            choice = {}
        reply = listening.run(request.caller, lambda: use_cases.open_called_figures(
            ctx, request.caller, choice if isinstance(choice, dict) else {}))
        listening.respond(respond, body, client, request.caller, reply)

    def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = listening.caller(body["user"]["id"])
        submitted = use_cases.submit_figures(ctx, caller, form_state(view), form_values(view.get("state") or {}),
                                             str(view.get("id") or ""))
        listening.ack_submission(ack, caller, view, submitted)

    def closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        use_cases.keep_draft(ctx, listening.caller(body["user"]["id"]), form_state(view),
                             form_values(view.get("state") or {}))

    app.action("figures.open")(open_button)
    app.view("figures.submit")(ack=submit, lazy=[lambda: listening.deliver_pending()])
    app.view_closed("figures.submit")(closed)
