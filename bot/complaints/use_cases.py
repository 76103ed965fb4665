"""The complaints' use cases: `/complaint` and its look-ups, logging from the dialog, the
buttons on a complaint's card and their dialogs, the approval of a non-quality return.
Each decides who may do it, changes the ledger, and queues the card update, the thread
line and the notices in the same transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.complaints import card, intake, ledger, workflow
from bot.complaints.card_actions import ACTIONS, FieldError
from bot.complaints.statistics import monthly_stats, stats_message
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.commands import help_message
from bot.core.context import AppContext
from bot.core.deduplication import first_time, once_per_dialog, press_key, submission_key
from bot.core.delivery import send_private_chart
from bot.core.i18n import gettext_for
from bot.core.inputs import clean_values
from bot.core.periods import parse_period
from bot.core.replies import Reply, Request, Submitted
from bot.core.texts import T, UserError
from bot.core.views import Actions, Button, Card, Form, Message, Paragraph, fit_initial_values
from bot.people.callers import require
from bot.scorecard.use_cases import open_event_form
from storage.models import Complaint, Customer, ProductReturn

HELP_WORDS = {"help", "帮助", "?", "？"}
LIST_WORDS = {"list", "列表", "ls"}
SHOW_WORDS = {"show", "查看"}
STATS_WORDS = {"stats", "统计"}
LIST_KINDS = ("open", "overdue", "mine", "all")
ACTION_REFUSED = T("Your roles do not allow this on a complaint.")


def complaint_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/complaint [help | list … | show N | stats [YYYY-MM] | customer symptom quantity]`."""
    caller = request.caller
    require(ctx, caller)
    first = words[0].lower() if words else ""
    if first in HELP_WORDS:
        return Reply(message=help_message(caller, ctx.authorizer))
    if first in LIST_WORDS:
        which = words[1].lower() if len(words) > 1 else "open"
        if which not in LIST_KINDS:
            raise UserError(T("Use /complaint list [open | overdue | mine | all]."))
        with ctx.session() as session:
            found = ledger.list_complaints(session, which, caller.person_id, ctx.now())
            return Reply(message=card.list_message(session, found, which, caller.locale or ctx.locale, ctx.tz))
    if first in SHOW_WORDS:
        if len(words) < 2:
            raise UserError(T("Use /complaint show <number>."))
        with ctx.session() as session:
            shown = card.complaint_card(session, ledger.find(session, words[1]), caller.locale or ctx.locale, ctx.tz,
                                    ctx.now(), buttons=False)
        return Reply(message=Message(text=shown.title, cards=[shown]))
    if first in STATS_WORDS:
        return _statistics(ctx, request, words[1] if len(words) > 1 else None)
    require(ctx, caller, "complaint.log")
    with ctx.session() as session:
        form = intake.complaint_form(session, caller.locale or ctx.locale, ctx.now(),
                                intake.parse_prefill(session, " ".join(words)))
    return Reply(form=form, message=Message(text=caller._("Opening the complaint dialog…")))


def _statistics(ctx: AppContext, request: Request, month_text: str | None) -> Reply:
    caller = request.caller
    require(ctx, caller, "report.view", T("Complaint statistics are for quality engineers, department heads and "
                                         "management."))
    period = parse_period(month_text, ctx.now(), ctx.tz)
    if period.month is None:
        raise UserError(T("Give a month: /complaint stats [YYYY-MM]"))
    with ctx.session() as session:
        stats = monthly_stats(session, period.month, ctx.tz, ctx.now())
    answer = stats_message(stats, caller.locale or ctx.locale)
    send_private_chart(ctx, request, answer.chart, answer.chart_title)  # the Pareto chart
    return Reply(message=answer.message)


def log_complaint(ctx: AppContext, caller: Caller, values: dict[str, Any], dialog: str = "") -> Submitted:
    """The logging dialog saved: number, deadlines, the card in the quality channel, a
    confirmation to the person who logged it and a notice to the owner. The same submission
    (`dialog`: the dialog as the messenger sent it) logs one complaint however often it comes."""
    try:
        require(ctx, caller)
    except UserError as refused:
        return Submitted(errors={"customer": refused.text})
    _ = caller._
    values = clean_values(values)
    with ctx.session() as session:
        data, errors = intake.validate_complaint(session, values, ctx.now())
        if errors:
            return Submitted(errors=errors)
        assert data is not None
        if dialog and not first_time(session, submission_key(dialog), ctx.now()):
            return Submitted()  # a repeat: the first was accepted and is logged
        complaint = intake.log_complaint(session, data, caller.person_id, ctx.now(), ctx.tz)
        card.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now())
        text = _("Complaint {number} is logged; it is tracked in the quality channel.").format(
            number=complaint.number)
        shown = card.complaint_card(session, complaint, caller.locale or ctx.locale, ctx.tz, ctx.now(), buttons=False)
        outbox.enqueue(session, f"complaint:{complaint.number}:logged", "dm", caller.user_id,
                       Message(text=text, cards=[Card(title=text, parts=[]), shown]), ctx.now())
        if complaint.owner_id != caller.person_id:
            card.tell_owner(session, complaint, ctx.locale, ctx.tz, ctx.now(),
                            card.owner_copy_key(complaint.number, "1"))
    return Submitted()


def press_card_button(ctx: AppContext, request: Request, action: str, number: str) -> Reply:
    """A button on a complaint's card: acts at once (pause, resume) or opens its dialog."""
    caller = request.caller
    spec = ACTIONS.get(action)
    if spec is None:
        raise UserError(T("No such action on a complaint."))
    require(ctx, caller, spec.permission, ACTION_REFUSED)
    _ = caller._
    with ctx.session() as session:
        complaint = ledger.find(session, number)
        if spec.fields is None:
            if not first_time(session, press_key(caller.user_id, request.key), ctx.now()):
                return Reply()  # the same press again: it has acted already
            line = spec.apply(session, complaint, {}, caller, ctx.now(), ctx.tz)
            card.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now(), line,
                      f"complaint:{complaint.number}:{action}:{request.key}")
            return Reply()
        form = Form(kind="complaint.action", title=_(spec.title), submit=_("Save"), close=_("Cancel"),
                    intro=f"{complaint.number} · {complaint.symptom}", fields=spec.fields(session, complaint, _),
                    state={"number": complaint.number, "action": action})
    return Reply(form=fit_initial_values(form, _))


def submit_card_action(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                       dialog: str) -> Submitted:
    """A card button's dialog saved: the change, the card updated in place, a line in its
    thread; the new owner told; a non-quality return put up for approval."""
    action = str(state.get("action") or "")
    spec = ACTIONS.get(action)
    if spec is None or not caller.known or not ctx.authorizer.allows(caller.roles, spec.permission):
        return Submitted(problem=ACTION_REFUSED)
    values = clean_values(values)
    with ctx.session() as session:
        # recording the submission first starts the write transaction, so that the savepoint
        # below never holds a read snapshot on SQLite that a concurrent writer makes stale
        return once_per_dialog(session, dialog, ctx.now(),
                               lambda: _take_card_action(ctx, session, caller, spec, action, state, values, dialog))


def _take_card_action(ctx: AppContext, session: Session, caller: Caller, spec: Any, action: str,
                      state: dict[str, Any], values: dict[str, Any], dialog: str) -> Submitted:
    """One card action in a savepoint: refused whole at the field, or done and told."""
    try:
        complaint = ledger.find(session, str(state.get("number") or ""))
        with session.begin_nested():
            line = spec.apply(session, complaint, values, caller, ctx.now(), ctx.tz)
    except FieldError as error:
        return Submitted(errors={error.field: error.text})
    except UserError as error:
        return Submitted(problem=error.text)
    stamp = ctx.now().isoformat()
    card.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now(), line,
                 f"complaint:{complaint.number}:{action}:{dialog}:{stamp}")
    if action == "assign":
        card.tell_owner(session, complaint, ctx.locale, ctx.tz, ctx.now(),
                        card.owner_copy_key(complaint.number, f"{complaint.owner_id}:{stamp}"))
    if action == "return":
        _queue_return_approval(ctx, session, complaint)
    return Submitted()


def open_complaint_event_form(ctx: AppContext, caller: Caller, number: str) -> Reply:
    """*Record scorecard event* on a closed complaint: the event dialog, linked to it."""
    require(ctx, caller, "scorecard.record_event", T("Your roles do not allow recording scorecard events."))
    with ctx.session() as session:
        complaint = ledger.find(session, number)
        customer = session.get(Customer, complaint.customer_id)
        code, linked = (customer.code if customer else None), complaint.number
    return open_event_form(ctx, caller, code, complaint_number=linked)


def decide_return(ctx: AppContext, request: Request, value: str, approve: bool) -> Reply:
    """An approver's button on a non-quality return; the request's own author may not decide it."""
    caller = request.caller
    require(ctx, caller, "return.approve", T("Only an approver (quality engineer, department head, management) "
                                             "decides a non-quality return."))
    _ = caller._
    try:
        return_id = int(json.loads(value)["return"])
    except (ValueError, KeyError, TypeError):
        raise UserError(T("No such return.")) from None
    with ctx.session() as session:
        row = session.get(ProductReturn, return_id)
        if row is None:
            raise UserError(T("No such return."))
        if not first_time(session, press_key(caller.user_id, request.key), ctx.now()):
            return Reply.text(_("Recorded."))  # the same press again
        workflow.approve_return(session, row, caller.person_id or 0, ctx.now(), approve)
        complaint = session.get(Complaint, row.complaint_id) if row.complaint_id else None
        if complaint is not None:
            line = (T("{name} approved the non-quality return of {n} pcs.", name=caller.name, n=row.quantity)
                    if approve else T("{name} rejected the non-quality return of {n} pcs.", name=caller.name,
                                      n=row.quantity))
            card.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now(), line,
                      f"complaint:{complaint.number}:return-decision:{row.id}")
            approval_key = _approval_key(complaint, row)
            decided = line.render(gettext_for(ctx.locale))
            outbox.enqueue(session, f"{approval_key}:decided", "update", ctx.settings.quality_channel,
                           Message(text=decided, cards=[Card(title="", parts=[Paragraph(decided)])]),
                           ctx.now(), update_of=approval_key)
    return Reply.text(_("Recorded."))


def _approval_key(complaint: Complaint, row: ProductReturn) -> str:
    return f"complaint:{complaint.number}:return:{row.id}:approval"


def _queue_return_approval(ctx: AppContext, session: Session, complaint: Complaint) -> None:
    """A non-quality return waits for an approver's button in the complaint's thread."""
    row = session.scalar(select(ProductReturn).where(ProductReturn.complaint_id == complaint.id)
                         .order_by(ProductReturn.id.desc()).limit(1))
    if row is None or row.status != "pending" or not ctx.settings.quality_channel:
        return
    _ = gettext_for(ctx.locale)
    text = _("Non-quality return of {n} pcs for {number} needs approval.").format(n=row.quantity,
                                                                                  number=complaint.number)
    value = json.dumps({"return": row.id})
    message = Message(text=text, cards=[Card(title="", parts=[
        Paragraph(text), Actions([Button(_("Approve"), "complaint.return_approve", value, "primary"),
                                  Button(_("Reject"), "complaint.return_reject", value, "danger")])])])
    outbox.enqueue(session, _approval_key(complaint, row), "post", ctx.settings.quality_channel, message, ctx.now(),
                   thread_of=card.card_key(complaint))


def publish_open_complaints(ctx: AppContext) -> int:
    """A card in the quality channel for every open complaint, oldest first (a ledger that
    was imported or generated rather than logged here); a card already posted is updated."""
    with ctx.session() as session:
        found = list(session.scalars(select(Complaint).where(Complaint.status != "closed")
                                     .order_by(Complaint.received_at)))
        for complaint in found:
            card.publish(session, complaint, ctx.settings.quality_channel, ctx.locale, ctx.tz, ctx.now())
    return len(found)
