"""The survey use cases the command line and the chat call."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.deduplication import first_time, once_per_dialog
from bot.core.delivery import send_private_chart
from bot.core.i18n import gettext_for, pick
from bot.core.inputs import row_id
from bot.core.replies import Reply, Request, Submitted
from bot.core.spreadsheets import ImportResult
from bot.core.texts import T, UserError, join_texts
from bot.core.views import Card, Message, Paragraph
from bot.people.callers import require
from bot.people.customers import exact_customer, unknown_customer
from bot.reports.use_cases import report_numbers
from bot.surveys.analysis import survey_results
from bot.surveys.answers import results_chart, results_message
from bot.surveys.campaigns import (
    KIND_NAMES,
    close_survey,
    find_survey,
    items_from_file,
    store_template,
    survey_json,
    template_items,
)
from bot.surveys.employees import employee_form, invitation_of, min_group, record_anonymous
from bot.surveys.employees import invitations as employee_invitations
from bot.surveys.invitations import invitations_of
from bot.surveys.planning import last_survey_points, plan_form, read_plan, situation_lines, this_period
from bot.surveys.plans import plan
from bot.surveys.questionnaire import CALL_OUTCOMES, check_answers, questionnaire_form, record_answers
from bot.surveys.questionnaire_book import file_name, questionnaire_workbook, read_questionnaire
from bot.surveys.responses import import_responses
from bot.surveys.workbook import statistics_workbook
from storage.models import Customer, SurveyCampaign, SurveyInvitation

UPLOADS_AT_ONCE = 10


def plan_survey(ctx: AppContext, kind: str, opens: dt.date, closes: dt.date, questionnaire: Path | None = None,
                by: int | None = None, seed: int | None = None) -> dict[str, Any]:
    items = items_from_file(questionnaire) if questionnaire is not None else None
    with ctx.session() as session:
        campaign = plan(session, kind, opens, closes, by, ctx.now(), items, seed)
        return _shown(session, campaign)


def show_survey(ctx: AppContext, survey_id: int) -> dict[str, Any]:
    with ctx.session() as session:
        return _shown(session, find_survey(session, survey_id))


def _shown(session: Any, campaign: SurveyCampaign) -> dict[str, Any]:
    """A survey as JSON; an employee survey says how many it asks and how many answered,
    never who (its results give the coverage by department)."""
    if campaign.kind != "employee":
        return survey_json(campaign, invitations_of(session, campaign.id))
    shown = survey_json(campaign)
    flags = [i.answered for i, _person in employee_invitations(session, campaign.id)]
    shown.update(invitations=len(flags), answered=sum(flags), sample_rate=float(campaign.sample_rate or 0))
    return shown


def take_responses(ctx: AppContext, survey_id: int, path: Path, by: int | None = None) -> ImportResult:
    """All or nothing: a file with any bad row writes none."""
    with ctx.session() as session:
        result = import_responses(session, find_survey(session, survey_id), path, ctx.now(), by)
        if not result.ok:
            session.rollback()
        return result


def statistics(ctx: AppContext, survey_id: int, locale: str | None = None) -> bytes:
    """The survey statistics table as an Excel workbook."""
    with ctx.session() as session:
        return statistics_workbook(session, find_survey(session, survey_id), locale or ctx.locale)


def results(ctx: AppContext, survey_id: int, customer: str | None = None) -> dict[str, Any]:
    """The survey's results, or those of one customer's answers (its code or name, exactly)."""
    with ctx.session() as session:
        campaign = find_survey(session, survey_id)
        found = None
        if customer is not None:
            found = exact_customer(session, customer)
            if found is None:
                raise unknown_customer(session, customer)
        return survey_results(session, campaign, found.id if found is not None else None)


def close(ctx: AppContext, survey_id: int, by: int | None = None) -> tuple[dict[str, Any], int]:
    """The survey closed and its customers' CSIs recorded as their survey scores."""
    with ctx.session() as session:
        campaign = find_survey(session, survey_id)
        outcome = survey_results(session, campaign)
        by_customer = {c["customer_id"]: c["csi"] for c in outcome.get("customers", []) if c["csi"] is not None}
        recorded = close_survey(session, campaign, outcome["csi"], by_customer, ctx.now(), by)
        outcome["status"] = campaign.status
        return outcome, recorded


RESULT_WORDS = {"results", "result", "结果"}
FORM_WORDS = {"form", "forms", "问卷"}


def questionnaire_files(ctx: AppContext, survey_id: int, customer: str | None = None,
                        locale: str | None = None) -> list[tuple[str, bytes]]:
    """Each invitation's Excel questionnaire (of one customer, or all), in the contact's
    language where known."""
    with ctx.session() as session:
        campaign = find_survey(session, survey_id)
        if campaign.status == "closed":
            raise UserError(T("Survey {id} is closed: its results are final.", id=campaign.id))
        found = None
        if customer is not None:
            found = exact_customer(session, customer)
            if found is None:
                raise unknown_customer(session, customer)
        files = []
        for invitation in invitations_of(session, campaign.id):
            if found is not None and invitation.customer_id != found.id:
                continue
            reader = locale or (invitation.contact.locale if invitation.contact else None) or ctx.locale
            files.append((file_name(campaign, invitation, reader),
                          questionnaire_workbook(session, campaign, invitation, reader)))
        return files


def take_questionnaire(ctx: AppContext, content: bytes, locale: str, by: int | None = None,
                       may_take: Callable[[Customer], bool] | None = None) -> tuple[bool, str]:
    """A filled questionnaire recorded as its invitation's answer (a file sent again
    replaces the answer it sent before), or why not, row by row: (taken, what to say)."""
    _ = gettext_for(locale)
    with ctx.session() as session:
        read = read_questionnaire(session, content)
        if read.opened is not None and may_take is not None and not may_take(read.opened.invitation.customer):
            return False, _("Only the customer's owner or a quality engineer may send in its questionnaire.")
        if read.errors or read.opened is None or read.checked is None:
            return False, _("Nothing was recorded:") + "\n" + join_texts(read.errors, "\n").render(_)
        campaign, invitation = read.opened.campaign, read.opened.invitation
        before = invitation.answered_at is not None
        recorded = record_answers(session, campaign, invitation, read.checked, "excel", ctx.now(), ctx.locale,
                                  by=by, replace=True)
        customer = invitation.customer
        rated = sum(1 for r in read.checked.ratings if r.rating is not None)
        text = _("Recorded for survey {id}: {customer}, {who}, {n} ratings.").format(
            id=campaign.id, customer=pick(locale, customer.name_zh, customer.name_en),
            who=read.checked.respondent or "—", n=rated)
        if before:
            text += " " + _("It replaces the answer sent before.")
        if recorded.actions:
            text += " " + _("{n} point(s) rated 1–2 opened corrective actions.").format(n=recorded.actions)
    ctx.deliverer.deliver_newest(ctx.now())
    return True, text


def import_uploaded_questionnaires(ctx: AppContext, caller: Caller, uploads: list[tuple[str, bytes]],
                                   key: str) -> None:
    """Questionnaires sent back to csatbot in a direct message: each recorded or refused
    with its rows named, answered in the same conversation, once however often Slack retries."""
    _ = caller._
    if not caller.known:
        return
    managers = ctx.authorizer.allows(caller.roles, "survey.manage")

    def may_take(customer: Customer) -> bool:
        return managers or customer.owner_id == caller.person_id

    with ctx.session() as session:
        if not first_time(session, f"survey-upload:{key}", ctx.now()):
            return
    lines = [f"{name}: {take_questionnaire(ctx, content, caller.locale or ctx.locale, caller.person_id, may_take)[1]}"
             for name, content in uploads[:UPLOADS_AT_ONCE]]
    text = "\n\n".join(lines)
    with ctx.session() as session:
        outbox.enqueue(session, f"survey-upload:{key}:answer", "dm", caller.user_id,
                       Message(text=text.split("\n", 1)[0], cards=[Card(title="", parts=[Paragraph(text)])]),
                       ctx.now())


def send_questionnaire_forms(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat survey form N CUSTOMER`: the customer's questionnaires to the caller's DM,
    for the customer's owner and those who run the surveys."""
    caller = request.caller
    _ = caller._
    if len(words) < 2 or not re.fullmatch(r"[0-9]{1,9}", words[0]):
        raise UserError(T("Use /csat survey form NUMBER CUSTOMER."))
    query = " ".join(words[1:])
    with ctx.session() as session:
        campaign = find_survey(session, int(words[0]))
        customer = exact_customer(session, query)
        if customer is None:
            raise unknown_customer(session, query)
        if customer.owner_id != caller.person_id:
            require(ctx, caller, "survey.manage", T("Only the customer's owner or a quality engineer may have its "
                                                    "questionnaires."))
        code = customer.code
    files = questionnaire_files(ctx, campaign.id, code)
    with ctx.session() as session:
        for name, content in files:
            outbox.enqueue(session, f"survey-form:{campaign.id}:{name}:{caller.user_id}:{request.key}", "image",
                           caller.user_id, None, ctx.now(), image=content, file_name=name,
                           image_title=_("Questionnaire {name}").format(name=name))
    return Reply.text(_("{n} questionnaire(s) of {customer} are on their way to your direct messages: send each to "
                        "its contact, and send the filled file back to me there.").format(n=len(files), customer=code))


def survey_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat survey [results] [ID] [CUSTOMER]`: a survey's results, the latest one without a
    number; `/csat survey form ID CUSTOMER`: its Excel questionnaires; `/csat survey new`:
    the planning dialog."""
    if words and words[0].lower() in FORM_WORDS:
        return send_questionnaire_forms(ctx, request, words[1:])
    if words and words[0].lower() in NEW_WORDS:
        return open_plan(ctx, request)
    require(ctx, request.caller, "report.view")
    words = [w for w in words if w.lower() not in RESULT_WORDS]
    caller = request.caller
    with ctx.session() as session:
        if words and re.fullmatch(r"[0-9]{1,9}", words[0]):  # '²' is a digit to isdigit(), not to int()
            campaign = find_survey(session, int(words[0]))
            words = words[1:]
        elif words and words[0].isdigit():
            raise UserError(T("Use /csat survey [results] [number] [customer]."))
        else:
            campaign = session.scalar(select(SurveyCampaign).order_by(SurveyCampaign.opens_on.desc(),
                                                                      SurveyCampaign.id.desc()).limit(1))
            if campaign is None:
                raise UserError(T("No survey has been planned yet: `csatbot survey new` plans one."))
        customer = None
        if words:
            customer = exact_customer(session, " ".join(words))
            if customer is None:
                raise unknown_customer(session, " ".join(words))
        outcome = survey_results(session, campaign, customer.id if customer is not None else None)
        opens, closes = campaign.opens_on.isoformat(), campaign.closes_on.isoformat()
    _ = caller._
    locale = caller.locale or ctx.locale
    message = results_message(outcome, opens, closes, locale)
    chart = results_chart(outcome, locale)
    if chart is not None and send_private_chart(ctx, request, chart[0], chart[1]):
        where = (_("📈 {title}: the chart follows this message.") if request.direct else
                 _("📈 {title}: the chart is in your direct messages with csatbot."))
        message.cards[-1].parts.append(Paragraph(where.format(title=chart[1])))
    return Reply(message=message)


def press_call(ctx: AppContext, request: Request, value: str) -> Reply:
    """*Record the call* in a rep's call list: the call's dialog, or why not."""
    caller = request.caller
    require(ctx, caller, "survey.manage")
    _ = caller._
    with ctx.session() as session:
        invitation = session.get(SurveyInvitation, row_id(value)) if row_id(value) is not None else None
        campaign = session.get(SurveyCampaign, invitation.campaign_id) if invitation is not None else None
        if invitation is None or campaign is None:
            raise UserError(T("That call is no longer on any survey."))
        if invitation.answered_at is not None:
            return Reply.text(_("This contact has answered already (on {day}).").format(
                day=invitation.answered_at.astimezone(ctx.tz).date().isoformat()))
        if campaign.status == "closed" or ctx.local_today() > campaign.closes_on:
            return Reply.text(_("Survey {id} has closed.").format(id=campaign.id))
        return Reply(form=questionnaire_form(campaign, invitation, caller.locale or ctx.locale, call=True))


def submit_call(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                dialog: str) -> Submitted:
    """A call recorded: its outcome, and the answers when the contact answered."""
    require(ctx, caller, "survey.manage")
    number = row_id(str(state.get("invitation", "")))
    with ctx.session() as session:
        invitation = session.get(SurveyInvitation, number) if number is not None else None
        campaign = session.get(SurveyCampaign, invitation.campaign_id) if invitation is not None else None
        if invitation is None or campaign is None:
            return Submitted(problem=T("That call is no longer on any survey."))
        if campaign.status == "closed":
            return Submitted(problem=T("Survey {id} is closed: its results are final.", id=campaign.id))

        def attempt() -> Submitted:
            assert invitation is not None and campaign is not None
            outcome = str(values.get("outcome") or "")
            if outcome not in CALL_OUTCOMES:
                return Submitted(errors={"outcome": T("Say how the call went.")})
            if invitation.answered_at is not None:
                return Submitted(problem=T("This contact has answered already."))
            invitation.call_outcome, invitation.called_at = outcome, ctx.now()
            if outcome != "reached":
                session.flush()
                return Submitted()
            checked = check_answers(campaign, invitation, values)
            errors = {k: v for k, v in checked.errors.items() if not k.startswith("competitor:")}
            if errors:
                return Submitted(errors=errors)
            record_answers(session, campaign, invitation, checked, "phone", ctx.now(), ctx.locale, by=caller.person_id)
            return Submitted()

        outcome = once_per_dialog(session, dialog, ctx.now(), attempt)
        if not outcome.accepted:
            session.rollback()
        return outcome


NEW_WORDS = {"new", "plan", "新建", "计划"}


def open_plan(ctx: AppContext, request: Request) -> Reply:
    """`/csat survey new`: the planning dialog, with the last survey's weak points and this
    period's situation beside it."""
    caller = request.caller
    require(ctx, caller, "survey.manage", T("Surveys are planned by the quality engineers and customer service."))
    _ = caller._
    today = ctx.local_today()
    numbers = report_numbers(ctx, "month", this_period(today))
    with ctx.session() as session:
        context = last_survey_points(session, _) + situation_lines(numbers, _)
        return Reply(form=plan_form(session, _, today, context))


def submit_plan(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                dialog: str) -> Submitted:
    require(ctx, caller, "survey.manage")
    _ = caller._
    with ctx.session() as session:
        def attempt() -> Submitted:
            planned, errors = read_plan(session, values)
            if errors:
                return Submitted(errors=errors)
            try:
                with session.begin_nested():
                    campaign = plan(session, planned["kind"], planned["opens"], planned["closes"], caller.person_id,
                                    ctx.now(), planned["items"])
            except UserError as refused:
                return Submitted(problem=refused.text)
            asked = len(invitations_of(session, campaign.id))
            text = _("Survey {id} is planned: {kind}, {opens} – {closes}, {n} items, {invited} contacts asked. Their "
                     "owners get the questionnaires on the opening day.").format(
                id=campaign.id, kind=_(KIND_NAMES.get(campaign.kind, campaign.kind)),
                opens=campaign.opens_on.isoformat(), closes=campaign.closes_on.isoformat(),
                n=len(campaign.questions), invited=asked)
            outbox.enqueue(session, f"survey-planned:{campaign.id}", "dm", caller.user_id, Message(text=text),
                           ctx.now())
            return Submitted()

        outcome = once_per_dialog(session, dialog, ctx.now(), attempt)
        if not outcome.accepted:
            session.rollback()
        return outcome


def replace_template(ctx: AppContext, path: Path) -> int:
    """The company's questionnaire from a file (all or nothing); planned surveys keep theirs."""
    items = items_from_file(path)
    with ctx.session() as session:
        return store_template(session, items, ctx.now())


def template(ctx: AppContext) -> list[dict[str, Any]]:
    with ctx.session() as session:
        return template_items(session)


def press_employee(ctx: AppContext, request: Request, value: str) -> Reply:
    """*Answer anonymously*: the employee survey's dialog, for whom it asked."""
    caller = request.caller
    require(ctx, caller)
    _ = caller._
    with ctx.session() as session:
        number = row_id(value)
        campaign = session.get(SurveyCampaign, number) if number is not None else None
        invitation = invitation_of(session, campaign.id, caller.person_id) if campaign is not None else None
        if campaign is None or invitation is None:
            raise UserError(T("This survey does not ask you."))
        if invitation.answered:
            return Reply.text(_("Your answer is in already. Thank you."))
        if campaign.status == "closed" or ctx.local_today() > campaign.closes_on:
            return Reply.text(_("Survey {id} has closed.").format(id=campaign.id))
        return Reply(form=employee_form(campaign, caller.locale or ctx.locale, min_group(session)))


def submit_employee(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                    dialog: str) -> Submitted:
    """The answer stored anonymously; the thanks by DM says nothing of what was answered."""
    require(ctx, caller)
    number = row_id(str(state.get("survey", "")))
    with ctx.session() as session:
        campaign = session.get(SurveyCampaign, number) if number is not None else None
        invitation = invitation_of(session, campaign.id, caller.person_id) if campaign is not None else None
        if campaign is None or invitation is None:
            return Submitted(problem=T("This survey does not ask you."))
        if campaign.status == "closed" or ctx.local_today() > campaign.closes_on:
            return Submitted(problem=T("Survey {id} is closed: its results are final.", id=campaign.id))
        checked = check_answers(campaign, None, values)
        errors = {k: v for k, v in checked.errors.items() if k.startswith("rating:") or k == "comment"}
        if errors:
            return Submitted(errors=errors)
        if record_anonymous(session, campaign, invitation, checked, ctx.local_today()):
            _ = caller._
            outbox.enqueue(session, f"survey-employee-thanks:{campaign.id}:{caller.user_id}", "dm", caller.user_id,
                           Message(text=_("Thank you: your answer to the employee survey is in, without your name.")),
                           ctx.now())
        return Submitted()
