"""Surveys in Slack: the button in a rep's call list and the call's dialog."""

from __future__ import annotations

from slack_bolt import App

from bot.surveys import use_cases
from bot.surveys.chasing import CALL_BUTTON, EMPLOYEE_BUTTON
from bot.surveys.employees import FORM_KIND as EMPLOYEE_FORM_KIND
from bot.surveys.planning import FORM_KIND as PLAN_FORM_KIND
from bot.surveys.questionnaire import CALL_FORM_KIND
from handlers.slack.listening import Listening


def register(app: App, listening: Listening) -> None:
    ctx = listening.ctx
    app.action(CALL_BUTTON)(**listening.button(
        lambda request, action: use_cases.press_call(ctx, request, str(action.get("value") or ""))))
    app.view(CALL_FORM_KIND)(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_call(ctx, caller, state, values, dialog)))
    app.action(EMPLOYEE_BUTTON)(**listening.button(
        lambda request, action: use_cases.press_employee(ctx, request, str(action.get("value") or ""))))
    app.view(EMPLOYEE_FORM_KIND)(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_employee(ctx, caller, state, values, dialog)))
    app.view(PLAN_FORM_KIND)(listening.submission(
        lambda caller, state, values, dialog: use_cases.submit_plan(ctx, caller, state, values, dialog)))
