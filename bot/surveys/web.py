"""The use cases behind a personal survey link: open the questionnaire, send the answers.
The page a browser gets is decided here (which questionnaire, in which language, which
notice: not found, not open yet, closed, answered already, thank you); the web adapter only
draws it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.context import AppContext
from bot.core.i18n import gettext_for, pick
from bot.core.views import Form
from bot.surveys.invitations import Opened, invitation_by_token
from bot.surveys.questionnaire import check_answers, questionnaire_form, reader_locale, record_answers, thank_you_text


@dataclass
class SurveyPage:
    """What a survey link shows. `form` with `errors` and the `values` sent when an answer
    needs mending (nothing typed is lost); otherwise a notice."""

    locale: str
    status: int
    title: str
    form: Form | None = None
    notice: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    answered: bool = False


def _closed_notice(ctx: AppContext, opened: Opened | None, locale: str) -> SurveyPage | None:
    _ = gettext_for(locale)
    if opened is None:
        return SurveyPage(locale, 404, _("Survey"), notice=_(
            "This link is not one of ours, or it was copied only in part. Please open the link in the message you "
            "received once more, or ask the person who sent it."))
    campaign, today = opened.campaign, ctx.local_today()
    title = pick(locale, campaign.title_zh, campaign.title_en)
    if opened.invitation.answered_at is not None:
        return SurveyPage(locale, 200, title, answered=True, notice=_(
            "This questionnaire was answered on {day}. Thank you: each link takes one answer.").format(
            day=opened.invitation.answered_at.astimezone(ctx.tz).date().isoformat()))
    if campaign.status == "closed" or today > campaign.closes_on:
        return SurveyPage(locale, 410, title, notice=_(
            "This survey closed on {day}; answers are no longer taken. Thank you all the same.").format(
            day=campaign.closes_on.isoformat()))
    if today < campaign.opens_on:
        return SurveyPage(locale, 200, title, notice=_("This survey opens on {day}. Please come back then.").format(
            day=campaign.opens_on.isoformat()))
    return None


def _opened(ctx: AppContext, session: Any, token: str, asked_locale: str | None
            ) -> tuple[Opened | None, str, SurveyPage | None]:
    """The invitation a link names, the reader's language, and the notice to show instead of
    the questionnaire (None: the questionnaire may be answered)."""
    opened = invitation_by_token(session, token)
    locale = (reader_locale(opened.invitation, ctx.locale, asked_locale) if opened
              else asked_locale or ctx.locale)
    return opened, locale, _closed_notice(ctx, opened, locale)


def open_questionnaire(ctx: AppContext, token: str, asked_locale: str | None = None) -> SurveyPage:
    with ctx.session() as session:
        opened, locale, notice = _opened(ctx, session, token, asked_locale)
        if notice is not None or opened is None:
            return notice or SurveyPage(locale, 404, "")
        form = questionnaire_form(opened.campaign, opened.invitation, locale)
        return SurveyPage(locale, 200, form.title, form=form)


def submit_questionnaire(ctx: AppContext, token: str, values: dict[str, Any],
                         asked_locale: str | None = None) -> SurveyPage:
    """The answers recorded once; a second send of the same page (a double tap, the back
    button) gets the "answered already" notice and changes nothing."""
    with ctx.session() as session:
        opened, locale, notice = _opened(ctx, session, token, asked_locale)
        if notice is not None or opened is None:
            return notice or SurveyPage(locale, 404, "")
        _ = gettext_for(locale)
        checked = check_answers(opened.campaign, opened.invitation, values)
        if checked.errors:
            form = questionnaire_form(opened.campaign, opened.invitation, locale)
            kept = {k: str(v) for k, v in values.items() if isinstance(v, str)}
            return SurveyPage(locale, 422, form.title, form=form, values=kept,
                              errors={k: e.render(_) for k, e in checked.errors.items()})
        recorded = record_answers(session, opened.campaign, opened.invitation, checked, "web", ctx.now(), ctx.locale)
        title = pick(locale, opened.campaign.title_zh, opened.campaign.title_en)
        if recorded.response is None:
            session.rollback()
            return SurveyPage(locale, 200, title, answered=True, notice=_(
                "This questionnaire was answered already. Thank you: each link takes one answer."))
        thanks = thank_you_text(opened.campaign, opened.invitation, locale)
        page = SurveyPage(locale, 200, title, answered=True, notice=thanks)
    ctx.deliverer.deliver_newest(ctx.now())
    return page
