"""Corrective actions in Slack: the step buttons on an action's card and their dialogs."""

from __future__ import annotations

from slack_bolt import App

from bot.actions import use_cases
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx
    app.action("action.step")(**listening.button(
        lambda request, action: use_cases.press_step(ctx, request, str(action.get("value") or ""))))
    app.view("action.new")(listening.submission(
        lambda caller, _state, values, dialog: use_cases.submit_new_action(ctx, caller, values, dialog)))
    app.view("action.step")(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_step(ctx, caller, state, values, dialog)))
