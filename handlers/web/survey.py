"""`/survey/<token>`: the questionnaire a personal link opens, served beside `/slack/events`.
GET draws it, POST sends it; the page is the use case's, this only parses and draws. The
browser keeps a draft while the customer answers (in its own storage, under the link), so a
lost connection or a closed tab loses nothing, and forgets it once the answer is in."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from bot.core.context import AppContext
from bot.core.i18n import gettext_for, normalize_locale
from bot.surveys.invitations import LINK_PATH
from bot.surveys.web import SurveyPage, open_questionnaire, submit_questionnaire
from handlers.web.html import DRAFT_SCRIPT, page, read_form, render_form, respond_html


def _language_link(path: str, locale: str) -> str:
    other, label = ("en", "English") if locale.startswith("zh") else ("zh-CN", "中文")
    return f'<a class="lang" href="{escape(path)}?lang={other}">{label}</a>'


def render(survey: SurveyPage, path: str, asked: str | None) -> str:
    _ = gettext_for(survey.locale)
    action = path + (f"?lang={urllib.parse.quote(asked)}" if asked else "")
    head = f"{_language_link(path, survey.locale)}<h1>{escape(survey.title)}</h1>"
    if survey.form is None:
        return head + f'<div class="notice" role="status">{escape(survey.notice)}</div>'
    summary = _("{n} answer(s) need mending; each is marked below. Everything else you chose is kept.").format(
        n=len(survey.errors))
    return head + f'<p class="intro">{escape(survey.form.intro)}</p>' + render_form(
        survey.form, survey.values, survey.errors, action, summary,
        _("Your choices are kept on this phone until you send them."))


def make_survey_pages(ctx: AppContext) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        token = path[len(LINK_PATH):]
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        asked = normalize_locale((query.get("lang") or [""])[0], "") or None
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "POST":
            values = read_form(environ)
            if values is None:
                _ = gettext_for(asked or ctx.locale)
                bad = SurveyPage(asked or ctx.locale, 413, _("Survey"), notice=_(
                    "The answers could not be read. Please go back and send them again."))
                return respond_html(start_response, 413, lambda nonce: page(
                    bad.title, render(bad, path, asked), bad.locale, nonce=nonce))
            survey = submit_questionnaire(ctx, token, values, asked)
        elif method in ("GET", "HEAD"):
            survey = open_questionnaire(ctx, token, asked)
        else:
            _ = gettext_for(ctx.locale)
            return respond_html(start_response, 405, lambda nonce: page(
                "csatbot", _("Open the link in a browser."), ctx.locale, nonce=nonce))
        flags = tuple(name for name, on in (("errors", survey.errors), ("answered", survey.answered)) if on)
        return respond_html(start_response, survey.status, lambda nonce: page(
            survey.title, render(survey, path, asked), survey.locale, DRAFT_SCRIPT, nonce, flags))

    return app
