"""What a button does in WeCom, and the dialogs it opens, as pages served by csatbot itself
(WeCom has no dialogs). A button in a WeCom message links to `/wecom/press?a=<action>&v=<value>`;
opened in WeCom, the page learns who is asking from WeCom's OAuth2 (a code WeCom appends,
exchanged once for the userid, then a signed cookie), runs the button's use case and shows
what it returns: a form, drawn from the same neutral model as Slack's modals, or a message.
`POST /wecom/form` hands the form to its submission use case: field errors are shown under
their fields with everything typed kept, and the browser keeps a draft until it is sent.

A cookie or a form that was not signed by this server is refused (403) and nothing runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from html import escape
from typing import Any

from bot.conversation.routes import BUTTONS, SUBMISSIONS
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.delivery import message_sent_to
from bot.core.i18n import gettext_for
from bot.core.inputs import clean_values, unlisted_choices
from bot.core.replies import FAILURE, Reply, Request, Submitted
from bot.core.texts import T, UserError, render_error
from bot.core.views import (
    Actions,
    Button,
    Card,
    Context,
    Divider,
    FieldList,
    Form,
    Image,
    Mention,
    Message,
    Paragraph,
    Table,
    form_from_dict,
    form_to_dict,
)
from bot.people.callers import choose_people, messenger_caller, search_customers
from handlers.web.html import DRAFT_SCRIPT, page, read_form, render_form, respond_html
from handlers.wecom.markdown import PRESS_PATH, press_url
from handlers.wecom.messenger import PREFIX, VIEW_PATH
from handlers.wecom.signing import Signer

log = logging.getLogger(__name__)
FORM_PATH = "/wecom/form"
PATHS = (PRESS_PATH, FORM_PATH, VIEW_PATH)
COOKIE = "csatbot_wecom"
STATE_COOKIE = "csatbot_wecom_state"  # the sign-in's own state, so that nobody signs a person in as someone else
FORM_HOURS = 24  # a form left open over lunch or overnight can still be sent
SESSION_HOURS = FORM_HOURS  # as long as a form: WeCom signs in again without asking after that
MAX_FORM_BODY = 256 * 1024


# --- drawing -------------------------------------------------------------------------------------


def _card_html(card: Card, link: Callable[[Button], str]) -> str:
    """A card for a phone: one column; a table's rows as blocks, each cell under its heading."""
    parts = [f"<h2>{escape(card.title)}</h2>"] if card.title else []
    for part in card.parts:
        if isinstance(part, Paragraph | Mention):
            text = escape(part.text).replace("\n", "<br>")
            parts.append(f"<p><strong>{text}</strong></p>" if isinstance(part, Paragraph) and part.strong
                         else f"<p>{text}</p>")
        elif isinstance(part, FieldList):
            parts.append("<dl>" + "".join(f"<dt>{escape(f.label)}</dt><dd>{escape(f.value)}</dd>"
                                          for f in part.fields) + "</dl>")
        elif isinstance(part, Table):
            for row in part.rows:
                cells = [escape(str(c)) for c in row]
                rest = "".join(f"<dt>{escape(col)}</dt><dd>{cell}</dd>"
                               for col, cell in zip(part.columns[1:], cells[1:], strict=False))
                parts.append(f'<div class="row"><strong>{cells[0] if cells else ""}</strong><dl>{rest}</dl></div>')
        elif isinstance(part, Context):
            parts.append(f'<p class="hint">{escape(part.text)}</p>')
        elif isinstance(part, Image):
            parts.append(f'<p class="hint">📈 {escape(part.title or part.alt)}</p>')
        elif isinstance(part, Divider):
            parts.append("<hr>")
        elif isinstance(part, Actions):
            parts.append('<div class="buttons">' + "".join(
                f'<a class="button{" " + b.style if b.style else ""}" href="{escape(link(b))}">'
                f"{escape(b.label)}</a>" for b in part.buttons) + "</div>")
    return '<section class="notice">' + "".join(parts) + "</section>"


def message_html(message: Message, link: Callable[[Button], str]) -> str:
    """A message for a phone; `link` is where each of its buttons leads."""
    if not message.cards:
        return f'<section class="notice"><p>{escape(message.text)}</p></section>'
    return "".join(_card_html(card, link) for card in message.cards)


def _fit_for_web(ctx: AppContext, caller: Caller, form: Form) -> Form:
    """What Slack looks up as the person types (customers, people) given as choices; a time
    as the page's local-time field shows it."""
    for item in form.fields:
        if item.kind == "datetime" and item.initial and item.initial.isdigit():
            local = dt.datetime.fromtimestamp(int(item.initial), ctx.settings.tz)
            item.initial = local.strftime("%Y-%m-%dT%H:%M")
        elif item.kind == "user" and not item.options:
            item.options = choose_people(ctx, caller)
        elif item.kind == "customer" and not item.options:
            item.options = search_customers(ctx, caller, "")
    return form


# --- the pages -----------------------------------------------------------------------------------


def make_pages(ctx: AppContext, exchange_code: Callable[[str], str | None], later: Executor | None = None
               ) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """`exchange_code` turns WeCom's OAuth2 code into the userid it was given to (None when
    WeCom refuses it: used, expired or forged)."""
    settings = ctx.settings
    signer = Signer.of(settings)

    def base_url(environ: dict[str, Any]) -> str:
        if settings.public_url:
            return settings.public_url.rstrip("/")
        return f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', 'localhost')}"

    def cookie(environ: dict[str, Any], wanted: str) -> str:
        for pair in (environ.get("HTTP_COOKIE") or "").split(";"):
            name, _, value = pair.strip().partition("=")
            if name == wanted:
                return value
        return ""

    def signed_in(environ: dict[str, Any]) -> str | None:
        data = signer.unsign("session", cookie(environ, COOKIE), ctx.now())
        return str(data["u"]) if data and data.get("u") else None

    def links_for(environ: dict[str, Any], user: str) -> Callable[[Button], str]:
        return lambda button: press_url(base_url(environ), button, signer, user)

    def secure(environ: dict[str, Any]) -> str:
        return "; Secure" if base_url(environ).startswith("https") else ""

    def deliver_later() -> None:
        def deliver() -> None:
            try:
                ctx.deliverer.deliver_newest(ctx.now())
            except Exception:  # the delivery job delivers what is left
                log.exception("delivering after a WeCom page failed")
        if later is not None:
            later.submit(deliver)
        else:
            deliver()

    def notice(start_response: Callable[..., Any], status: int, locale: str, text: str) -> list[bytes]:
        body = f'<h1>csatbot</h1><section class="notice" role="status"><p>{escape(text)}</p></section>'
        return respond_html(start_response, status, lambda nonce: page("csatbot", body, locale, nonce=nonce))

    def draft_key(caller: Caller, form: Form) -> str:
        """Where the phone keeps what is typed into this form for this person."""
        return "wecom:" + hashlib.sha256(json.dumps([caller.user_id, form.kind, form.state], sort_keys=True,
                                                    default=str).encode()).hexdigest()[:24]

    def show_form(start_response: Callable[..., Any], status: int, caller: Caller, form: Form,
                  values: dict[str, str], errors: dict[str, str], problem: str = "") -> list[bytes]:
        _ = caller._
        locale = caller.locale or ctx.locale
        token = signer.sign("form", {"u": caller.user_id, "f": form_to_dict(form), "n": secrets.token_hex(8)},
                            ctx.now() + dt.timedelta(hours=FORM_HOURS))
        draft = draft_key(caller, form)
        summary = problem or _("{n} answer(s) need mending; each is marked below. Everything else you entered "
                               "is kept.").format(n=len(errors))
        fields = render_form(form, values, errors, FORM_PATH, summary if (errors or problem) else "",
                             _("What you type is kept on this phone until you send it."),
                             hidden={"_form": token}, draft_key=draft, problem=bool(problem),
                             file_note=_("Files cannot be attached on this page; what else you enter is saved "
                                         "without them."))
        intro = f'<p class="intro">{escape(form.intro)}</p>' if form.intro else ""
        body = f"<h1>{escape(form.title)}</h1>{intro}{fields}"
        flags = ("errors",) if errors or problem else ()
        return respond_html(start_response, status, lambda nonce: page(form.title, body, locale, DRAFT_SCRIPT,
                                                                       nonce, flags))

    def show_reply(start_response: Callable[..., Any], environ: dict[str, Any], caller: Caller,
                   reply: Reply) -> list[bytes]:
        if reply.form is not None:
            return show_form(start_response, 200, caller, _fit_for_web(ctx, caller, reply.form), {}, {})
        _ = caller._
        message = reply.message or Message(text=_("Done."))
        body = "<h1>csatbot</h1>" + message_html(message, links_for(environ, caller.user_id.removeprefix(PREFIX)))
        return respond_html(start_response, 200, lambda nonce: page("csatbot", body, caller.locale or ctx.locale,
                                                                    nonce=nonce))

    def run_press(environ: dict[str, Any], start_response: Callable[..., Any], user: str, action: str, value: str,
                  key: str) -> list[bytes]:
        caller = messenger_caller(ctx, "wecom", user)
        request = Request(caller, f"wecom-press:{user}:{action}:{key}", None, direct=True)
        try:
            reply = BUTTONS[action](ctx, request, action, value)
        except UserError as error:
            reply = Reply(message=render_error(error, caller.locale or ctx.locale))
        except Exception:
            log.exception("a WeCom button failed")
            reply = Reply(message=Message(text=caller._(FAILURE)))
        deliver_later()
        return show_reply(start_response, environ, caller, reply)

    def press(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """A button's link: run at once when it was signed for the person who opened it (or
        for anyone: the group's, the menu's); any other is asked about first, and runs only
        when they confirm (a POST with a token of this page), so that a link someone made up
        and sent round does nothing by itself."""
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
        action, value = query.get("a", ""), query.get("v", "")
        _ = gettext_for(ctx.locale)
        if action not in BUTTONS:
            return notice(start_response, 404, ctx.locale, _("This button is not known (any more). Open the "
                                                             "newest message from csatbot and press it there."))
        user, answered = sign_in(environ, start_response, PRESS_PATH, query,
                                 {"a": action, "v": value, "s": query.get("s", "")})
        if user is None:
            return answered
        if signer.link_is_for(user, action, value, query.get("s", "")):
            # a reload of the press WeCom's sign-in came back with is the same request
            return run_press(environ, start_response, user, action, value, query.get("k") or secrets.token_hex(10))
        caller = messenger_caller(ctx, "wecom", user)
        _ = caller._
        token = signer.sign("confirm", {"u": user, "a": action, "v": value, "n": secrets.token_hex(8)},
                            ctx.now() + dt.timedelta(hours=1))
        ask, go_on = _("This link did not come to you from csatbot. Go on only if you expected it."), _("Go on")
        body = (f'<h1>csatbot</h1><section class="notice"><p>{escape(ask)}</p>'
                f'<form method="post" action="{PRESS_PATH}"><input type="hidden" name="_t" value="{escape(token)}">'
                f'<button type="submit">{escape(go_on)}</button></form></section>')
        return respond_html(start_response, 200, lambda nonce: page("csatbot", body, caller.locale or ctx.locale,
                                                                    nonce=nonce))

    def confirmed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The press a person confirmed on this page (its token names them, the action and its value)."""
        _ = gettext_for(ctx.locale)
        user = signed_in(environ)
        posted = read_form(environ) or {}
        data = signer.unsign("confirm", str(posted.get("_t") or ""), ctx.now())
        if user is None or data is None or data.get("u") != user or data.get("a") not in BUTTONS:
            return notice(start_response, 403, ctx.locale, _(
                "This could not be checked (it is too old, or not from csatbot). Open it again from the message."))
        return run_press(environ, start_response, user, str(data["a"]), str(data.get("v") or ""), str(data["n"]))

    def sign_in(environ: dict[str, Any], start_response: Callable[..., Any], path: str, query: dict[str, str],
                keep: dict[str, str]) -> tuple[str | None, list[bytes]]:
        """Who opened the page: the signed cookie's userid; else WeCom's OAuth2: a redirect to
        it with a state of this browser's own (kept in a cookie), and back with that state and
        a code, exchanged once, that sets the session cookie and comes back without it, keyed
        `k` by it, so that a reload is the same request."""
        _ = gettext_for(ctx.locale)
        if query.get("code"):
            expected = cookie(environ, STATE_COOKIE)
            if not expected or query.get("state") != expected:
                return None, notice(start_response, 403, ctx.locale, _(
                    "The sign-in could not be checked (it was not started here). Open the link again from the "
                    "message."))
            user = exchange_code(query["code"])
            if user is None:
                return None, notice(start_response, 403, ctx.locale, _(
                    "WeCom did not confirm who you are: the link was used or has expired. Open it again from the "
                    "message."))
            session = signer.sign("session", {"u": user}, ctx.now() + dt.timedelta(hours=SESSION_HOURS))
            again = urllib.parse.urlencode({**keep, "k": hashlib.sha256(query["code"].encode()).hexdigest()[:20]})
            start_response("303 See Other", [
                ("Location", f"{path}?{again}"), ("Cache-Control", "no-store"), ("Content-Length", "0"),
                ("Set-Cookie", f"{COOKIE}={session}; Path=/wecom/; Max-Age={SESSION_HOURS * 3600}; HttpOnly; "
                               f"SameSite=Lax{secure(environ)}"),
                ("Set-Cookie", f"{STATE_COOKIE}=; Path=/wecom/; Max-Age=0; HttpOnly; SameSite=Lax{secure(environ)}")])
            return None, [b""]
        user = signed_in(environ)
        if user is None:  # WeCom signs the person in and sends them back with a code
            state = secrets.token_urlsafe(12)
            back = base_url(environ) + path + "?" + urllib.parse.urlencode(keep)
            start_response("302 Found", [
                ("Location", authorize_url(back, state)), ("Cache-Control", "no-store"), ("Content-Length", "0"),
                ("Set-Cookie", f"{STATE_COOKIE}={state}; Path=/wecom/; Max-Age=600; HttpOnly; "
                               f"SameSite=Lax{secure(environ)}")])
            return None, [b""]
        return user, []

    def view(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The whole of a message the bot sent, with every button: where a card was cut."""
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
        user, answered = sign_in(environ, start_response, VIEW_PATH, query, {"m": query.get("m", "")})
        if user is None:
            return answered
        caller = messenger_caller(ctx, "wecom", user)
        message = message_sent_to(ctx, caller, query.get("m", ""))
        if message is None:
            _ = caller._
            return notice(start_response, 404, caller.locale or ctx.locale, _(
                "This message is not one csatbot sent you, or it is no longer kept."))
        body = "<h1>csatbot</h1>" + message_html(message, links_for(environ, user))
        return respond_html(start_response, 200, lambda nonce: page("csatbot", body, caller.locale or ctx.locale,
                                                                    nonce=nonce))

    def authorize_url(back: str, state: str) -> str:
        query = urllib.parse.urlencode({"appid": settings.wecom_corp_id, "redirect_uri": back,
                                        "response_type": "code", "scope": "snsapi_base", "state": state,
                                        "agentid": settings.wecom_agent_id})
        return f"{settings.wecom_oauth_url}?{query}#wechat_redirect"

    def submit(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _ = gettext_for(ctx.locale)
        user = signed_in(environ)
        posted = read_form(environ, MAX_FORM_BODY)
        if posted is None:
            return notice(start_response, 413, ctx.locale, _("The form could not be read. Go back and send it "
                                                             "again; what you typed is kept on this phone."))
        data = signer.unsign("form", str(posted.get("_form") or ""), ctx.now())
        if user is None or data is None or data.get("u") != PREFIX + user:
            return notice(start_response, 403, ctx.locale, _(
                "This form could not be checked (it is too old, or not from csatbot). Open it again from the "
                "message; what you typed is kept on this phone."))
        caller = messenger_caller(ctx, "wecom", user)
        _ = caller._
        try:
            form = form_from_dict(data["f"])
        except (KeyError, TypeError):
            return notice(start_response, 400, caller.locale or ctx.locale, _(
                "The form could not be read. Go back and send it again; what you typed is kept on this phone."))
        typed = {k: v for k, v in posted.items() if not k.startswith("_")}
        values = clean_values(_values(form, typed, settings.tz))
        use_case = SUBMISSIONS.get(form.kind)
        if use_case is None:
            return notice(start_response, 404, caller.locale or ctx.locale, _("This form is not known."))
        unlisted = unlisted_choices(form, values)  # a page, unlike a Slack menu, can send any value
        try:
            submitted = (Submitted(errors=unlisted) if unlisted else
                         use_case(ctx, caller, clean_values(form.state), values, f"wecom-form:{data.get('n')}"))
        except UserError as error:
            submitted = Submitted(problem=error.text)
        except Exception:
            log.exception("a WeCom form failed")
            submitted = Submitted(problem=T(FAILURE))
        if not submitted.accepted:
            errors = {key: text.render(_) for key, text in submitted.errors.items()}
            problem = submitted.problem.render(_) if submitted.problem is not None else ""
            return show_form(start_response, 422, caller, form, typed, errors, problem)
        deliver_later()
        if submitted.next_form is not None:
            return show_form(start_response, 200, caller, _fit_for_web(ctx, caller, submitted.next_form), {}, {})
        saved = _("Saved. You can close this page.")
        body = f'<h1>{escape(form.title)}</h1><section class="notice" role="status"><p>{escape(saved)}</p></section>'
        draft = draft_key(caller, form)  # sent: the phone forgets what it kept of it
        return respond_html(start_response, 200, lambda nonce: page(form.title, body, caller.locale or ctx.locale,
                                                                    DRAFT_SCRIPT, nonce, ("sent",), draft=draft))

    def pages(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == PRESS_PATH and method in ("GET", "HEAD"):
            return press(environ, start_response)
        if path == PRESS_PATH and method == "POST":
            return confirmed(environ, start_response)
        if path == FORM_PATH and method == "POST":
            return submit(environ, start_response)
        if path == VIEW_PATH and method in ("GET", "HEAD"):
            return view(environ, start_response)
        _ = gettext_for(ctx.locale)
        return notice(start_response, 405, ctx.locale, _("Open the link in WeCom."))

    return pages


def _values(form: Form, typed: dict[str, str], tz: Any) -> dict[str, Any]:
    """The page's fields as the use cases take them from Slack: nothing typed is None, a time
    is seconds since the epoch (the page gives the company's local time), a file is a list."""
    values: dict[str, Any] = {}
    for item in form.fields:
        raw = (typed.get(item.key) or "").strip() if item.kind != "multiline" else typed.get(item.key) or ""
        if item.kind == "file":
            values[item.key] = []
        elif item.kind == "datetime" and raw:
            try:
                values[item.key] = int(dt.datetime.fromisoformat(raw).replace(tzinfo=tz).timestamp())
            except ValueError:
                values[item.key] = None
        else:
            values[item.key] = raw or None
    return values
