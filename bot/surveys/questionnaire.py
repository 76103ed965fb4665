"""A questionnaire as a neutral form, and an answer to it recorded once for its invitation,
whichever way it came (the web link, the Excel file, a phone call): the owner is told, the
customer thanked in their language, and each unsatisfied point opens a corrective action for
the department of its dimension (001 §5.6.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import outbox
from bot.core.i18n import N_, gettext_for, normalize_locale, pick
from bot.core.inputs import FULL_WIDTH_DIGITS
from bot.core.stored_settings import setting
from bot.core.texts import T, Text
from bot.core.views import Card, FieldList, Form, FormField, Message, Option, Paragraph
from bot.core.views import Field as ShownField
from bot.people.identities import address_of
from bot.surveys.campaigns import DIMENSION_NAMES
from storage.db import insert_ignoring_conflicts
from storage.models import (
    CorrectiveAction,
    Customer,
    Person,
    SurveyAnswer,
    SurveyCampaign,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)

FORM_KIND = "survey.answer"
COMMENT_LENGTH = 2000
RESPONDENT_LENGTH = 200
RATINGS = ("1", "2", "3", "4", "5")


def reader_locale(invitation: SurveyInvitation, company_locale: str, asked: str | None = None) -> str:
    """The language the customer reads: the one they chose on the page, their contact row's, the company's."""
    if asked:
        return normalize_locale(asked, company_locale)
    if invitation.contact is not None and invitation.contact.locale:
        return invitation.contact.locale
    return company_locale


def respondent_of(invitation: SurveyInvitation) -> str | None:
    return invitation.contact.name if invitation.contact is not None else None


def _scale(_: Any, low: str, high: str) -> list[Option]:
    return [Option(r, f"{r} · {low}" if r == "1" else f"{r} · {high}" if r == "5" else r) for r in RATINGS]


CALL_OUTCOMES = {"reached": N_("reached: they answered"), "not_reached": N_("not reached: call again"),
                 "refused": N_("refused to answer")}
CALL_FORM_KIND = "survey.call"


def questionnaire_form(campaign: SurveyCampaign, invitation: SurveyInvitation, locale: str,
                       call: bool = False) -> Form:
    """One rating per item (1 very unsatisfied … 5 very satisfied), its importance where the
    questionnaire asks it, the main competitor on the same item if the customer will say, and
    a comment. A customer asked without a named contact says who answers. A `call` (the rep
    on the phone) first says how the call went; the ratings are needed only if they answered,
    and the competitor is not asked."""
    _ = gettext_for(locale)
    customer = invitation.customer
    fields: list[FormField] = []
    if call:
        fields.append(FormField("outcome", _("The call"), kind="select",
                                options=[Option(k, _(v)) for k, v in CALL_OUTCOMES.items()]))
    if invitation.contact is None:
        fields.append(FormField("respondent", _("Your name and department"), max_length=RESPONDENT_LENGTH))
    for question in campaign.questions:
        key = question.key or f"q{question.position}"
        dimension = _(DIMENSION_NAMES.get(question.dimension, question.dimension))
        fields.append(FormField(f"rating:{key}", pick(locale, question.text_zh, question.text_en), kind="select",
                                hint=dimension, required=not call,
                                options=_scale(_, _("very unsatisfied"), _("very satisfied"))))
        if question.asks_importance:
            fields.append(FormField(f"importance:{key}", _("How much this matters to you"), kind="select",
                                    required=False, options=_scale(_, _("not at all"), _("very much"))))
        if call:
            continue
        fields.append(FormField(f"competitor:{key}", _("Your main other supplier on the same (if you will say)"),
                                kind="select", required=False, folded=True,
                                options=_scale(_, _("very unsatisfied"), _("very satisfied"))))
    fields.append(FormField("comment", _("What should we do better? (optional)"), kind="multiline", required=False,
                            max_length=COMMENT_LENGTH))
    title = pick(locale, campaign.title_zh, campaign.title_en)
    intro = _("{customer}: please rate each point from 1 (very unsatisfied) to 5 (very satisfied). It takes about "
              "five minutes; your answers go to our quality department.").format(
        customer=pick(locale, customer.name_zh, customer.name_en))
    if call:
        contact = invitation.contact
        intro = " · ".join(x for x in (pick(locale, customer.name_zh, customer.name_en),
                                       contact.name if contact else "", contact.phone if contact else "") if x)
        return Form(kind=CALL_FORM_KIND, title=_("Survey call"), submit=_("Save"), close=_("Cancel"), fields=fields,
                    intro=intro, state={"invitation": invitation.id})
    return Form(kind=FORM_KIND, title=title, submit=_("Send my answers"), close=_("Close"), fields=fields,
                intro=intro, state={"invitation": invitation.id})


@dataclass
class Rating:
    question: SurveyQuestion
    rating: Decimal | None
    importance: Decimal | None = None
    competitor: Decimal | None = None


@dataclass
class Checked:
    ratings: list[Rating] = field(default_factory=list)
    comment: str = ""
    respondent: str | None = None
    errors: dict[str, Text] = field(default_factory=dict)


def _number(raw: Any) -> str:
    return str(raw or "").strip().translate(FULL_WIDTH_DIGITS)


def check_answers(campaign: SurveyCampaign, invitation: SurveyInvitation | None, values: dict[str, Any]) -> Checked:
    """The form's values as ratings, or an error at each field that is wrong. No invitation:
    an anonymous answer, which names nobody."""
    checked = Checked(comment=str(values.get("comment") or "").strip(),
                      respondent=respondent_of(invitation) if invitation is not None else None)
    if invitation is not None and invitation.contact is None:
        checked.respondent = str(values.get("respondent") or "").strip()
        if not checked.respondent:
            checked.errors["respondent"] = T("Say who answers, so that we can thank you.")
        elif len(checked.respondent) > RESPONDENT_LENGTH:
            checked.errors["respondent"] = T("At most {n} characters.", n=RESPONDENT_LENGTH)
    if len(checked.comment) > COMMENT_LENGTH:
        checked.errors["comment"] = T("At most {n} characters.", n=COMMENT_LENGTH)
    for question in campaign.questions:
        key = question.key or f"q{question.position}"
        given: dict[str, Decimal | None] = {}
        for part in ("rating", "importance", "competitor"):
            raw = _number(values.get(f"{part}:{key}"))
            if not raw:
                given[part] = None
                if part == "rating":
                    checked.errors[f"{part}:{key}"] = T("Choose a rating from 1 to 5.")
            elif raw not in RATINGS or (part == "importance" and not question.asks_importance):
                checked.errors[f"{part}:{key}"] = T("A whole number from 1 to 5.")
                given[part] = None
            else:
                given[part] = Decimal(raw)
        checked.ratings.append(Rating(question, given["rating"], given["importance"], given["competitor"]))
    return checked


@dataclass
class Recorded:
    response: SurveyResponse | None  # None: the invitation was answered already
    actions: int = 0


def record_answers(session: Session, campaign: SurveyCampaign, invitation: SurveyInvitation, checked: Checked,
                   channel: str, now: dt.datetime, company_locale: str, by: int | None = None,
                   replace: bool = False) -> Recorded:
    """The invitation's one response, its owner told and the unsatisfied points acted on.
    Answered already: nothing changes, unless `replace` (a questionnaire file sent back
    again, mended), which replaces the answers. Two submissions at the same moment: the
    database's unique invitation lets one in."""
    existing = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == invitation.id))
    if existing is not None and not replace:
        return Recorded(None)
    if existing is not None:
        existing.answers.clear()
        session.flush()
        response = existing
        response.submitted_at = now
    else:
        response = SurveyResponse(campaign_id=campaign.id, customer_id=invitation.customer_id,
                                  respondent=checked.respondent or "—", channel=channel, submitted_at=now,
                                  entered_by_id=by, invitation_id=invitation.id)
        try:
            with session.begin_nested():
                session.add(response)
                session.flush()
        except IntegrityError:
            return Recorded(None)
    response.respondent = checked.respondent or "—"
    for rating in checked.ratings:
        if rating.rating is None and rating.importance is None and rating.competitor is None:
            continue
        response.answers.append(SurveyAnswer(question_id=rating.question.id, score=rating.rating,
                                             importance=rating.importance, competitor=rating.competitor))
    response.comment = checked.comment or None
    invitation.answered_at = now
    invitation.answered_by = channel
    session.flush()
    actions = open_actions_for_unsatisfied(session, campaign, invitation, checked, now)
    tell_owner(session, campaign, invitation, response, now, company_locale)
    return Recorded(response, actions)


def open_actions_for_unsatisfied(session: Session, campaign: SurveyCampaign, invitation: SurveyInvitation,
                                 checked: Checked, now: dt.datetime) -> int:
    """A rating at or below `surveys.action_at_or_below` opens one action per survey,
    customer and item, for the department of the item's dimension, linked to the answer."""
    from bot.actions.lifecycle import department_name, due_in_working_days, owner_for

    options = setting(session, "surveys")
    threshold = Decimal(str(options.get("action_at_or_below", 2)))
    areas = dict(options.get("areas", {}))
    customer = invitation.customer
    rows = []
    for rating in checked.ratings:
        if rating.rating is None or rating.rating > threshold:
            continue
        question = rating.question
        key = question.key or f"q{question.position}"
        area = str(areas.get(question.dimension, "product_quality"))
        detail = {"survey": campaign.id, "survey_key": campaign.key, "invitation": invitation.id, "item": key,
                  "dimension": question.dimension, "rating": int(rating.rating),
                  "respondent": checked.respondent or "", "comment": checked.comment[:500]}
        zh_dimension = gettext_for("zh-CN")(DIMENSION_NAMES.get(question.dimension, question.dimension))
        en_dimension = gettext_for("en")(DIMENSION_NAMES.get(question.dimension, question.dimension))
        title = (f"{customer.name_zh}：满意度调查「{question.text_zh}」（{zh_dimension}）评 {int(rating.rating)} 分 / "
                 f"{customer.name_en}: survey rated \"{question.text_en}\" ({en_dimension}) {int(rating.rating)}")
        rows.append({"trigger_key": f"survey_point:{campaign.key}:{customer.id}:{key}", "trigger_kind": "survey_point",
                     "trigger_detail": detail, "customer_id": customer.id, "complaint_id": None, "title": title,
                     "area": area, "owner_department": department_name(session, area),
                     "owner_id": owner_for(session, area, customer.owner_id) or customer.owner_id,
                     "management_review": False, "due_date": due_in_working_days(session, now), "status": "open",
                     "opened_at": now})
    return insert_ignoring_conflicts(session, CorrectiveAction, rows) if rows else 0


def thank_you_text(campaign: SurveyCampaign, invitation: SurveyInvitation, locale: str) -> str:
    """What the owner sends the customer (001 §5.6.3 A), in the customer's language."""
    _ = gettext_for(locale)
    name = respondent_of(invitation) or pick(locale, invitation.customer.name_zh, invitation.customer.name_en)
    return _("Dear {name}, thank you for answering our {survey}. We read every answer; where you were not "
             "satisfied, we will come back to you with what we do about it.").format(
        name=name, survey=pick(locale, campaign.title_zh, campaign.title_en))


def tell_owner(session: Session, campaign: SurveyCampaign, invitation: SurveyInvitation, response: SurveyResponse,
               now: dt.datetime, company_locale: str) -> None:
    customer = session.get(Customer, invitation.customer_id)
    owner = session.get(Person, customer.owner_id) if customer is not None and customer.owner_id else None
    if customer is None or owner is None or not owner.active or not address_of(owner):
        return
    locale = owner.locale or company_locale
    _ = gettext_for(locale)
    rated = [a.score for a in response.answers if a.score is not None]
    low = sum(1 for r in rated if r <= 2)
    who = response.respondent or "—"
    text = _("{customer} answered the survey: {who}.").format(customer=pick(locale, customer.name_zh,
                                                                             customer.name_en), who=who)
    customer_locale = reader_locale(invitation, company_locale)
    parts = [Paragraph(text, strong=True), FieldList([
        ShownField(_("Ratings"), str(len(rated))),
        ShownField(_("Mean rating"), f"{sum(rated) / len(rated):.1f}" if rated else "—"),
        ShownField(_("Rated 1–2"), str(low)),
    ])]
    if low:
        parts.append(Paragraph(_("Each point rated 1–2 opened a corrective action.")))
    parts.append(Paragraph(_("A thank-you to send them:")))
    parts.append(Paragraph(thank_you_text(campaign, invitation, customer_locale)))
    outbox.enqueue(session, f"survey-answered:{invitation.id}:{response.submitted_at.isoformat()}", "dm",
                   address_of(owner), Message(text=text, cards=[Card(title=_("Survey answer"), parts=parts)]), now)
    response.thanked_at = now
