"""`/survey/<token>`: the questionnaire a personal link opens, served beside `/slack/events`.
GET draws it, POST sends it; the page is the use case's, this only parses and draws. The
browser keeps a draft while the customer answers (in its own storage, under the link), so a
lost connection or a closed tab loses nothing, and forgets it once the answer is in."""

from __future__ import annotations

import secrets
import urllib.parse
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from bot.core.context import AppContext
from bot.core.i18n import gettext_for, normalize_locale
from bot.surveys.invitations import LINK_PATH
from bot.surveys.web import SurveyPage, open_questionnaire, submit_questionnaire
from handlers.web.html import page, render_form

MAX_BODY = 64 * 1024

DRAFT_SCRIPT = """
(function(){var f=document.getElementById('answers');var k='csatbot-draft:'+location.pathname;
if(!f){if(document.body.dataset.answered)try{localStorage.removeItem(k)}catch(e){}return}
var saved={};try{saved=JSON.parse(localStorage.getItem(k)||'{}')}catch(e){}
var fresh=document.body.dataset.errors!=='1';
Array.prototype.forEach.call(f.elements,function(el){if(!el.name||!fresh||!(el.name in saved))return;
if(el.type==='radio'){el.checked=(saved[el.name]===el.value)}else{el.value=saved[el.name]}});
function keep(){var d={};Array.prototype.forEach.call(f.elements,function(el){if(!el.name)return;
if(el.type==='radio'){if(el.checked)d[el.name]=el.value}else{d[el.name]=el.value}});
try{localStorage.setItem(k,JSON.stringify(d))}catch(e){}}
f.addEventListener('change',keep);f.addEventListener('input',keep);
var bad=document.querySelector('.summary');if(bad)bad.scrollIntoView();})();
"""


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


def _body(environ: dict[str, Any]) -> dict[str, str] | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 <= length <= MAX_BODY:
        return None
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=500)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


def make_survey_pages(ctx: AppContext) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def respond(start_response: Callable[..., Any], status: int, html: str, nonce: str) -> list[bytes]:
        body = html.encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
                  413: "Content Too Large", 422: "Unprocessable Content"}.get(status, "OK")
        start_response(f"{status} {reason}", [
            ("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", f"default-src 'none'; style-src 'nonce-{nonce}'; "
                                        f"script-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'")])
        return [body]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        token = path[len(LINK_PATH):]
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        asked = normalize_locale((query.get("lang") or [""])[0], "") or None
        method = environ.get("REQUEST_METHOD", "GET")
        nonce = secrets.token_urlsafe(16)
        if method == "POST":
            values = _body(environ)
            if values is None:
                _ = gettext_for(asked or ctx.locale)
                bad = SurveyPage(asked or ctx.locale, 413, _("Survey"), notice=_(
                    "The answers could not be read. Please go back and send them again."))
                return respond(start_response, 413, page(bad.title, render(bad, path, asked), bad.locale), nonce)
            survey = submit_questionnaire(ctx, token, values, asked)
        elif method in ("GET", "HEAD"):
            survey = open_questionnaire(ctx, token, asked)
        else:
            _ = gettext_for(ctx.locale)
            return respond(start_response, 405, page("csatbot", _("Open the link in a browser."), ctx.locale), nonce)
        flags = tuple(name for name, on in (("errors", survey.errors), ("answered", survey.answered)) if on)
        html = page(survey.title, render(survey, path, asked), survey.locale, DRAFT_SCRIPT, nonce, flags)
        return respond(start_response, survey.status, html, nonce)

    return app
