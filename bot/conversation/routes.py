"""Which use case a pressed button and a submitted dialog go to, for every messenger: Slack
registers its listeners from these tables, and WeCom's web pages dispatch through them, so
a new button or dialog is wired once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.actions import use_cases as actions
from bot.complaints import use_cases as complaints
from bot.complaints.card_actions import ACTIONS as COMPLAINT_CARD_ACTIONS
from bot.conversation import languages
from bot.conversation.commands import COMMAND_BUTTON, text_message
from bot.conversation.home import press_retry
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.replies import Reply, Request, Submitted
from bot.datacall import use_cases as datacall
from bot.revisits import use_cases as revisits
from bot.scorecard import use_cases as scorecard
from bot.surveys import use_cases as surveys
from bot.surveys.chasing import CALL_BUTTON, EMPLOYEE_BUTTON
from bot.surveys.employees import FORM_KIND as EMPLOYEE_FORM_KIND
from bot.surveys.planning import FORM_KIND as PLAN_FORM_KIND
from bot.surveys.questionnaire import CALL_FORM_KIND

# (ctx, request, the button's action id, its value) -> what to show
ButtonUseCase = Callable[[AppContext, Request, str, str], Reply]
# (ctx, caller, the form's state, its values, the submission's id) -> the outcome
SubmissionUseCase = Callable[[AppContext, Caller, dict[str, Any], dict[str, Any], str], Submitted]


def choice(value: str) -> dict[str, Any]:
    """A button's JSON value; {} for anything else."""
    try:
        parsed = json.loads(value or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


BUTTONS: dict[str, ButtonUseCase] = {
    COMMAND_BUTTON: lambda ctx, request, _a, value: text_message(ctx, request, value),
    languages.ACTION: lambda ctx, request, _a, value: languages.show_in_my_language(ctx, request, value),
    "outbox.retry": lambda ctx, request, _a, value: press_retry(ctx, request, value),
    "csat.pick_customer": lambda ctx, request, _a, value: scorecard.answer_picked_customer(ctx, request,
                                                                                           choice(value)),
    "csat.breakdown": lambda ctx, request, _a, value: scorecard.answer_breakdown(ctx, request, choice(value)),
    "csat.share": lambda ctx, request, _a, value: scorecard.share_answer(ctx, request, choice(value)),
    "csat.record_event": lambda ctx, request, _a, value: scorecard.press_event_button(ctx, request, value, False),
    "csat.correct_event": lambda ctx, request, _a, value: scorecard.press_event_button(ctx, request, value, True),
    "csat.metric_target": lambda ctx, request, _a, value: scorecard.open_target_form(ctx, request, value),
    "figures.open": lambda ctx, request, _a, value: datacall.open_called_figures(ctx, request.caller, choice(value)),
    **{f"complaint.{key}": (lambda ctx, request, action, value: complaints.press_card_button(
        ctx, request, action.split(".", 1)[1], value)) for key in COMPLAINT_CARD_ACTIONS},
    "complaint.scorecard_event": lambda ctx, request, _a, value: complaints.open_complaint_event_form(
        ctx, request.caller, value),
    "complaint.return_approve": lambda ctx, request, _a, value: complaints.decide_return(ctx, request, value, True),
    "complaint.return_reject": lambda ctx, request, _a, value: complaints.decide_return(ctx, request, value, False),
    "action.step": lambda ctx, request, _a, value: actions.press_step(ctx, request, value),
    "revisit.record": lambda ctx, request, _a, value: revisits.press_record(ctx, request, value),
    "revisit.complaint": lambda ctx, request, _a, value: revisits.press_log_complaint(ctx, request, value),
    CALL_BUTTON: lambda ctx, request, _a, value: surveys.press_call(ctx, request, value),
    EMPLOYEE_BUTTON: lambda ctx, request, _a, value: surveys.press_employee(ctx, request, value),
}

SUBMISSIONS: dict[str, SubmissionUseCase] = {
    "figures.submit": datacall.submit_figures,
    "people.deputy": datacall.submit_deputy,
    "complaint.log": lambda ctx, caller, _state, values, dialog: complaints.log_complaint(ctx, caller, values,
                                                                                        dialog),
    "complaint.action": complaints.submit_card_action,
    "scorecard.event": lambda ctx, caller, state, values, _dialog: scorecard.submit_event(ctx, caller, state, values),
    "metrics.target": lambda ctx, caller, state, values, _dialog: scorecard.submit_target(ctx, caller, state, values),
    "scorecard.rules": lambda ctx, caller, state, values, _dialog: scorecard.submit_rules(ctx, caller, state, values),
    "action.new": lambda ctx, caller, _state, values, dialog: actions.submit_new_action(ctx, caller, values, dialog),
    "action.step": actions.submit_step,
    "revisit.new": lambda ctx, caller, _state, values, dialog: revisits.submit_new_revisit(ctx, caller, values,
                                                                                         dialog),
    "revisit.record": revisits.submit_record,
    CALL_FORM_KIND: surveys.submit_call,
    EMPLOYEE_FORM_KIND: surveys.submit_employee,
    PLAN_FORM_KIND: surveys.submit_plan,
}

# what a button's answer is keyed by when it goes to the person's direct messages
DM_KEYS = {"figures.open": "figures-open"}
