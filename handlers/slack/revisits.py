"""Quality revisits in Slack: the button in the reminder and its dialog."""

from __future__ import annotations

from slack_bolt import App

from bot.revisits import use_cases
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx
    app.action("revisit.record")(**listening.button(
        lambda request, action: use_cases.press_record(ctx, request, str(action.get("value") or ""))))
    app.action("revisit.complaint")(**listening.button(
        lambda request, action: use_cases.press_log_complaint(ctx, request, str(action.get("value") or ""))))
    app.view("revisit.new")(listening.submission(
        lambda caller, _state, values, dialog: use_cases.submit_new_revisit(ctx, caller, values, dialog)))
    app.view("revisit.record")(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_record(ctx, caller, state, values, dialog)))
