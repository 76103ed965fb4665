"""Scorecard buttons and dialogs in Slack: pick a customer, share to the channel, record or
correct an event, the dialog's customer search and its submission, the rules dialog."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.inputs import clean_text
from bot.people.callers import search_customers
from bot.scorecard import use_cases
from handlers.slack.blockkit import plain
from handlers.slack.listening import Listening, choice


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx

    def customer_search(ack: Ack, body: dict[str, Any]) -> None:
        options = search_customers(ctx, listening.caller(body["user"]["id"]), clean_text(str(body.get("value") or "")))
        ack(options=[{"text": plain(o.label, 75), "value": o.value} for o in options])

    app.action("csat.pick_customer")(**listening.button(
        lambda request, action: use_cases.answer_picked_customer(ctx, request, choice(action))))
    app.action("csat.breakdown")(**listening.button(
        lambda request, action: use_cases.answer_breakdown(ctx, request, choice(action))))
    app.action("csat.share")(**listening.button(
        lambda request, action: use_cases.share_answer(ctx, request, choice(action))))
    for action_id, correcting in (("csat.record_event", False), ("csat.correct_event", True)):
        app.action(action_id)(**listening.button(
            lambda request, action, correcting=correcting: use_cases.press_event_button(
                ctx, request, str(action.get("value") or ""), correcting)))
    app.options("customer")(customer_search)
    app.view("scorecard.event")(listening.submission(
        lambda caller, state, values, _dialog: use_cases.submit_event(ctx, caller, state, values)))
    app.action("csat.metric_target")(**listening.button(
        lambda request, action: use_cases.open_target_form(ctx, request, str(action.get("value") or ""))))
    app.view("metrics.target")(listening.submission(
        lambda caller, state, values, _dialog: use_cases.submit_target(ctx, caller, state, values)))
    app.view("scorecard.rules")(listening.submission(
        lambda caller, state, values, _dialog: use_cases.submit_rules(ctx, caller, state, values)))
