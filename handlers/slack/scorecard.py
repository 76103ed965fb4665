"""Scorecard buttons and dialogs in Slack: pick a customer, share to the channel, record or
correct an event, the dialog's customer search and its submission."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.replies import Reply
from bot.people.customers import customer_options
from bot.scorecard import use_cases
from handlers.slack.blockkit import form_state, form_values, plain
from handlers.slack.listening import Listening


def _choice(action: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx
    deliver = [lambda: listening.deliver_pending()]

    def pick_customer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                      client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        reply = listening.run(request.caller, lambda: use_cases.answer_picked_customer(ctx, request, _choice(action)))
        listening.respond(respond, body, client, request.caller, reply)

    def share(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        reply = listening.run(request.caller, lambda: use_cases.share_answer(ctx, request, _choice(action)))
        listening.respond(respond, body, client, request.caller, reply)

    def event_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                     client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        correcting = action["action_id"] == "csat.correct_event"
        reply: Reply = listening.run(request.caller, lambda: use_cases.press_event_button(
            ctx, request, str(action.get("value") or ""), correcting))
        listening.respond(respond, body, client, request.caller, reply)

    def search_customers(ack: Ack, body: dict[str, Any]) -> None:
        caller = listening.caller(body["user"]["id"])
        with ctx.session() as session:
            options = customer_options(session, caller.locale or ctx.locale, body.get("value") or "") \
                if caller.known else []
        ack(options=[{"text": plain(o.label, 75), "value": o.value} for o in options])

    def event_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = listening.caller(body["user"]["id"])
        submitted = use_cases.submit_event(ctx, caller, form_state(view), form_values(view.get("state") or {}))
        listening.ack_submission(ack, caller, view, submitted)

    app.action("csat.pick_customer")(ack=pick_customer, lazy=deliver)
    app.action("csat.share")(ack=share, lazy=deliver)
    app.action("csat.record_event")(event_button)
    app.action("csat.correct_event")(event_button)
    app.options("customer")(search_customers)
    app.view("scorecard.event")(ack=event_submission, lazy=deliver)
