"""Complaints in Slack: the logging dialog, the buttons on a complaint's card and their
dialogs, the approval buttons of a non-quality return."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.complaints import use_cases
from bot.complaints.card_actions import ACTIONS
from handlers.slack.blockkit import form_state, form_values
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx
    deliver = [lambda: listening.deliver_pending()]

    def log_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = listening.caller(body["user"]["id"])
        submitted = use_cases.log_complaint(ctx, caller, form_values(view.get("state") or {}))
        listening.ack_submission(ack, caller, view, submitted)

    def card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                    client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        key = action["action_id"].split(".", 1)[1]
        reply = listening.run(request.caller, lambda: use_cases.press_card_button(
            ctx, request, key, str(action.get("value") or "")))
        listening.respond(respond, body, client, request.caller, reply)

    def action_submission(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        caller = listening.caller(body["user"]["id"])
        submitted = use_cases.submit_card_action(ctx, caller, form_state(view), form_values(view.get("state") or {}),
                                                 str(view.get("id") or ""))
        listening.ack_submission(ack, caller, view, submitted)

    def scorecard_event(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                        client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        reply = listening.run(request.caller, lambda: use_cases.open_complaint_event_form(
            ctx, request.caller, str(action.get("value") or "")))
        listening.respond(respond, body, client, request.caller, reply)

    def decide_return(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond,
                      client: WebClient) -> None:
        ack()
        request = listening.action_request(body, action)
        approve = action["action_id"] == "complaint.return_approve"
        reply = listening.run(request.caller, lambda: use_cases.decide_return(
            ctx, request, str(action.get("value") or ""), approve))
        listening.respond(respond, body, client, request.caller, reply)

    app.view("complaint.log")(ack=log_submission, lazy=deliver)
    app.view("complaint.action")(ack=action_submission, lazy=deliver)
    for key in ACTIONS:
        app.action(f"complaint.{key}")(ack=card_button, lazy=deliver)
    app.action("complaint.scorecard_event")(scorecard_event)
    app.action("complaint.return_approve")(ack=decide_return, lazy=deliver)
    app.action("complaint.return_reject")(ack=decide_return, lazy=deliver)
