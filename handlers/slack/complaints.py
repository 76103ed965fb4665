"""Complaints in Slack: the logging dialog, the buttons on a complaint's card and their
dialogs, the approval buttons of a non-quality return."""

from __future__ import annotations

from slack_bolt import App

from bot.complaints import use_cases
from bot.complaints.card_actions import ACTIONS
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx

    app.view("complaint.log")(listening.submission(
        lambda caller, _state, values, dialog: use_cases.log_complaint(ctx, caller, values, dialog)))
    app.view("complaint.action")(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_card_action(ctx, caller, state, values, dialog)))
    for key in ACTIONS:  # `complaint.<action>`, the complaint's number as the value
        app.action(f"complaint.{key}")(**listening.button(
            lambda request, action: use_cases.press_card_button(
                ctx, request, action["action_id"].split(".", 1)[1], str(action.get("value") or ""))))
    app.action("complaint.scorecard_event")(**listening.button(
        lambda request, action: use_cases.open_complaint_event_form(ctx, request.caller,
                                                                    str(action.get("value") or ""))))
    for action_id, approve in (("complaint.return_approve", True), ("complaint.return_reject", False)):
        app.action(action_id)(**listening.button(
            lambda request, action, approve=approve: use_cases.decide_return(
                ctx, request, str(action.get("value") or ""), approve)))
