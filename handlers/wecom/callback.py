"""`/wecom/callback`: WeCom's URL verification (GET) and its encrypted messages (POST). A
callback whose signature is wrong, whose timestamp is more than five minutes off, or that is
meant for another corp gets 403 and causes nothing; a message is answered at once with an
empty body (WeCom wants its answer within 5 s) and handled after, once per `MsgId`."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bot.conversation.commands import answer_text_message
from bot.conversation.home import open_home
from bot.conversation.menu import HOME
from bot.core.context import AppContext
from bot.core.replies import Request
from bot.people.callers import messenger_caller
from handlers.wecom.crypto import CryptoError, WeComCrypto

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
PATH = "/wecom/callback"



def _text(root: Element, tag: str) -> str:
    node = root.find(tag)
    return (node.text or "").strip() if node is not None else ""


def make_callback(ctx: AppContext, later: Executor) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    settings = ctx.settings
    crypto = WeComCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)

    def answer(start_response: Callable[..., Any], status: str, body: bytes = b"") -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    def handle(message: Element) -> None:
        """After the answer: the typed line (or the menu entry's words) through the
        conversation's commands."""
        user = _text(message, "FromUserName")
        try:
            caller = messenger_caller(ctx, "wecom", user)
            once = _text(message, "MsgId") or f"{_text(message, 'CreateTime')}:{user}:{_text(message, 'EventKey')}"
            request = Request(caller, f"wecom:{once}", caller.user_id, direct=True)
            typed = _text(message, "Content") if _text(message, "MsgType") == "text" else _text(message, "EventKey")
            answer_text_message(ctx, request, typed)
            ctx.deliverer.deliver_newest(ctx.now())
        except Exception:  # the delivery job delivers what was queued; the log says what failed
            log.exception("handling a WeCom message failed")

    def entered(message: Element, asked: bool = False) -> None:
        """Opening the app is WeCom's App Home: what I owe, what needs me; once a day, since
        WeCom tells of every opening, and whenever the menu's entry for it is pressed."""
        user = _text(message, "FromUserName")
        key = (f"wecom-menu-home:{user}:{_text(message, 'CreateTime')}" if asked
               else f"wecom-enter:{user}:{ctx.local_today().isoformat()}")
        try:
            open_home(ctx, messenger_caller(ctx, "wecom", user), key)
            ctx.deliverer.deliver_newest(ctx.now())
        except Exception:
            log.exception("answering a WeCom app opening failed")

    def callback(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()}
        signature, timestamp, nonce = query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", "")
        now = ctx.now().timestamp()
        try:
            if environ.get("REQUEST_METHOD") == "GET":
                echo = query.get("echostr", "")
                crypto.check(signature, timestamp, nonce, echo, now)
                return answer(start_response, "200 OK", crypto.decrypt(echo).encode())
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if not 0 < length <= MAX_BODY:
                return answer(start_response, "400 Bad Request")
            envelope = ElementTree.fromstring(environ["wsgi.input"].read(length))
            encrypted = _text(envelope, "Encrypt")
            crypto.check(signature, timestamp, nonce, encrypted, now)
            message = ElementTree.fromstring(crypto.decrypt(encrypted).encode())
        except CryptoError as refused:
            log.warning("WeCom callback refused: %s", refused)
            return answer(start_response, "403 Forbidden")
        except (ElementTree.ParseError, DefusedXmlException, ValueError):
            return answer(start_response, "400 Bad Request")
        kind = _text(message, "MsgType")
        if kind == "text" and _text(message, "FromUserName"):
            later.submit(handle, message)
        elif kind == "event" and _text(message, "Event") == "enter_agent" and _text(message, "FromUserName"):
            later.submit(entered, message)
        elif kind == "event" and _text(message, "Event") == "click" and _text(message, "FromUserName"):
            if _text(message, "EventKey") == HOME:
                later.submit(entered, message, True)
            else:  # a menu entry's key is the line it stands for
                later.submit(handle, message)
        return answer(start_response, "200 OK")

    return callback
