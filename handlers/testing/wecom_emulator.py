"""A WeCom API emulator for the tests: `gettoken` (tokens that expire or are revoked on
demand), `message/send` (dropping, as WeCom does, what passes a member's limits) and
`media/upload`, the OAuth2 sign-in and its `auth/getuserinfo`, every call recorded; and a client that sends
encrypted callbacks the way WeCom does."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from handlers.wecom.crypto import WeComCrypto

MARKDOWN_BYTES = 2048


def menu_problem(menu: dict[str, Any]) -> str:
    """What WeCom's 创建菜单 refuses: 1 to 3 buttons of at most 5 sub-buttons each, a name of
    at most 16 bytes (a sub-button's 40), a key of at most 128 bytes or a URL on each leaf."""
    buttons = menu.get("button") or []
    if not 1 <= len(buttons) <= 3:
        return "invalid button size"
    for button in buttons:
        if len(str(button.get("name") or "").encode()) > 16:
            return "invalid button name size"
        subs = button.get("sub_button") or []
        if len(subs) > 5:
            return "invalid sub button size"
        for leaf in subs or [button]:
            if leaf is not button and len(str(leaf.get("name") or "").encode()) > 40:
                return "invalid sub button name size"
            if leaf.get("type") == "click" and not 0 < len(str(leaf.get("key") or "").encode()) <= 128:
                return "invalid button key size"
            if leaf.get("type") == "view" and not (str(leaf.get("url") or "").startswith("http")
                                                   and len(str(leaf["url"]).encode()) <= 1024):
                return "invalid button url"
            if leaf.get("type") not in ("click", "view"):
                return "invalid button type"
    return ""


TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
CODE_HOURS = 72  # a response_code changes its card once, within this


def card_problem(card: dict[str, Any]) -> str:
    """What a button-interaction template card must be (WeCom's 模板卡片 reference): a title, a
    task id of digits, letters and `_-@` (128 bytes), 1 to 6 buttons each with a text and a
    key (a callback) or a URL, at most 6 fields; and what csatbot promises beyond it: the
    lengths WeCom advises (title 36, text 160, field 5 and 30, button 10 characters)."""
    if card.get("card_type") != "button_interaction":
        return f"card_type {card.get('card_type')!r} not emulated"
    title = str((card.get("main_title") or {}).get("title") or "")
    if not title or len(title) > 36 or len(str((card.get("main_title") or {}).get("desc") or "")) > 44:
        return "main_title"
    if not TASK_ID.match(str(card.get("task_id") or "")):
        return "task_id"
    if len(str(card.get("sub_title_text") or "")) > 160:
        return "sub_title_text"
    fields = card.get("horizontal_content_list") or []
    if len(fields) > 6 or any(len(f.get("keyname", "")) > 5 or len(f.get("value", "")) > 30 for f in fields):
        return "horizontal_content_list"
    buttons = card.get("button_list") or []
    if not 1 <= len(buttons) <= 6:
        return "button_list size"
    for button in buttons:
        if not button.get("text") or len(button["text"]) > 10:
            return "button text"
        if button.get("type") == 1 and not str(button.get("url") or "").startswith("http"):
            return "button url"
        if button.get("type", 0) == 0 and not 0 < len(str(button.get("key") or "").encode()) <= 1024:
            return "button key"
    action = card.get("card_action")
    if action and action.get("type") == 1 and not str(action.get("url") or "").startswith("http"):
        return "card_action url"
    return ""


def _uploaded(body: bytes) -> tuple[str, bytes]:
    """The file name and content of a one-part multipart upload."""
    head, _, rest = body.partition(b"\r\n\r\n")
    found = re.search(rb'filename="([^"]*)"', head)
    content = rest.rsplit(b"\r\n--", 1)[0]
    return (found.group(1).decode("utf-8", "replace") if found else "file"), content


@dataclass
class WeComCall:
    method: str
    query: dict[str, str]
    body: dict[str, Any]
    answer: dict[str, Any] = field(default_factory=dict)


class WeComEmulator:
    # what WeCom takes for one member from one app ("访问频率限制"): beyond it, it answers ok and drops
    MEMBER_LIMITS = ((60.0, 30), (3600.0, 1000))

    def __init__(self, corp_id: str = "wwcsatbot0001", secret: str = "s3cret",
                 now: Callable[[], float] = time.time) -> None:
        self.corp_id, self.secret = corp_id, secret
        self.now = now
        self.tokens: set[str] = set()
        self.calls: list[WeComCall] = []
        self.delivered_at: dict[str, list[float]] = {}  # member -> when messages reached them
        self.dropped: list[WeComCall] = []  # answered ok, never shown: what a sender must never cause
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self.codes: dict[str, str] = {}  # OAuth2 code -> the member it was given to, until exchanged
        self.signed_in: str | None = None  # who the WeCom client is: the OAuth2 page signs them in
        self.chats: dict[str, dict[str, Any]] = {}  # application group chats, by chatid
        self.robots: dict[str, list[float]] = {}  # group robots by webhook key -> when they posted
        self.task_ids: set[str] = set()
        self.codes_of_cards: dict[str, tuple[str, float, bool]] = {}  # response_code -> (member, until, used)
        self.menu: dict[str, Any] | None = None
        self.media: dict[str, tuple[str, bytes]] = {}  # media_id -> (file name, content), as uploaded
        self.limits: dict[str, tuple[float, list[float]]] = {}  # method -> (calls a second, when they came)
        self.daily_cap: int | None = None
        # the address book: departments (id, name, parent id) and members (userid, name, department ids)
        self.departments: list[tuple[int, str, int]] = [(1, "公司", 0)]
        self.members: list[tuple[str, str, list[int]]] = []  # the app's person-times a day (the account cap × 200)
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib signature
                if self.path.startswith("/connect/oauth2/authorize"):
                    self.send_response(302)
                    self.send_header("Location", emulator.authorize(self.path))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._answer(b"")

            def do_POST(self) -> None:  # noqa: N802 - stdlib signature
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, body: bytes) -> None:
                answer = emulator.handle(self.path, body, self.headers.get("Content-Type") or "")
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def api_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/cgi-bin/"

    @property
    def oauth_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/connect/oauth2/authorize"

    def issue_code(self, user: str) -> str:
        """A code as WeCom appends it after signing `user` in: good for one exchange."""
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = user
        return code

    def authorize(self, path: str) -> str:
        """WeCom's OAuth2 page: back to `redirect_uri` with a code for whoever is signed in."""
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlparse(path).query).items()}
        back = query.get("redirect_uri", "")
        if query.get("appid") != self.corp_id or not back or self.signed_in is None:
            return back or "/"
        joiner = "&" if "?" in back else "?"
        code = self.issue_code(self.signed_in)
        return f"{back}{joiner}{urllib.parse.urlencode({'code': code, 'state': query.get('state', '')})}"

    def start(self) -> WeComEmulator:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def rate_limit(self, method: str, per_second: float) -> None:
        """Answer 45009 (接口调用超过限制) past `per_second` calls of `method` in any second, on
        the real clock: WeCom documents no such limit for `message/send`, so this stands for
        a proxy's or for WeCom throttling an app that floods it."""
        with self.lock:
            self.limits[method] = (per_second, [])

    def _over_limit(self, method: str) -> bool:
        limit = self.limits.get(method)
        if limit is None:
            return False
        per_second, times = limit
        now = time.monotonic()
        with self.lock:
            times[:] = [at for at in times if at > now - 1.0]
            if len(times) >= per_second:
                return True
            times.append(now)
        return False

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def calls_to(self, method: str) -> list[WeComCall]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10,
                 matching: Callable[[WeComCall], bool] = lambda _call: True) -> list[WeComCall]:
        """Poll the call log until `count` calls (that match) arrived; all of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.calls_to(method) if matching(c)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{method} called {len(self.calls_to(method))} times, not {count}")

    def handle(self, path: str, body: bytes, content_type: str) -> dict[str, Any]:
        parsed = urllib.parse.urlparse(path)
        method = parsed.path.removeprefix("/cgi-bin/")
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        payload: dict[str, Any] = {}
        if body and "json" in content_type:
            payload = json.loads(body.decode("utf-8"))
        answer = self._answer(method, query, payload, body)
        call = WeComCall(method, query, payload, answer)
        with self.lock:
            self.calls.append(call)
            if method == "message/send" and answer.get("errcode") == 0:
                self._count(call)
        return answer

    def _count(self, call: WeComCall) -> None:
        """A message to a member over their limits is dropped, as WeCom does, with no error."""
        now = self.now()
        member = str(call.body.get("touser") or "")
        times = self.delivered_at.setdefault(member, [])
        if any(sum(1 for at in times if at > now - window) >= most for window, most in self.MEMBER_LIMITS):
            self.dropped.append(call)
            return
        times.append(now)

    ROBOT_PER_MINUTE = 20  # a group robot's limit; past it, 45009

    def _robot(self, method: str, query: dict[str, str], payload: dict[str, Any], body: bytes) -> dict[str, Any]:
        """A group robot: known by its key; 20 messages a minute; markdown of 4,096 bytes; an
        image as base64 with its MD5 (2 MB); a file uploaded first."""
        key = query.get("key", "")
        if key not in self.robots:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        if method == "webhook/upload_media":
            media = f"media{next(self._ids)}"
            with self.lock:
                self.media[media] = _uploaded(body)
            return {"errcode": 0, "errmsg": "ok", "type": query.get("type"), "media_id": media}
        now = self.now()
        with self.lock:
            times = self.robots[key]
            times[:] = [at for at in times if at > now - 60]
            if len(times) >= self.ROBOT_PER_MINUTE:
                return {"errcode": 45009, "errmsg": "api freq out of limit"}
            times.append(now)
        kind = payload.get("msgtype")
        if kind == "markdown" and len(str((payload.get("markdown") or {}).get("content", "")).encode()) > 4096:
            return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        if kind == "image":
            image = payload.get("image") or {}
            raw = base64.b64decode(str(image.get("base64") or ""))
            if hashlib.md5(raw).hexdigest() != image.get("md5") or len(raw) > 2 * 1024 * 1024:  # noqa: S324
                return {"errcode": 40009, "errmsg": "invalid image size or md5"}
        if kind not in ("markdown", "image", "file", "text"):
            return {"errcode": 40008, "errmsg": "invalid message type"}
        return {"errcode": 0, "errmsg": "ok"}

    def _answer(self, method: str, query: dict[str, str], payload: dict[str, Any], body: bytes) -> dict[str, Any]:
        if method == "gettoken":
            if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            token = secrets.token_hex(16)
            with self.lock:
                self.tokens.add(token)
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if method in ("webhook/send", "webhook/upload_media"):
            return self._robot(method, query, payload, body)
        if query.get("access_token") not in self.tokens:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if self._over_limit(method):
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        if method == "message/send" and self.daily_cap is not None:
            with self.lock:
                sent = sum(len(times) for times in self.delivered_at.values())
            if sent >= self.daily_cap:
                return {"errcode": 45009, "errmsg": "app message quota of the day used up"}
        if method in ("message/send", "appchat/send"):
            content = (payload.get("markdown") or {}).get("content", "")
            if payload.get("msgtype") == "markdown" and len(content.encode()) > MARKDOWN_BYTES:
                return {"errcode": 40058, "errmsg": "markdown content exceed max length"}
            if method == "appchat/send":
                if payload.get("chatid") not in self.chats:
                    return {"errcode": 86003, "errmsg": "chat not exist"}
                return {"errcode": 0, "errmsg": "ok"}
            # as long as WeCom's own (its recall documentation shows 63 characters)
            sent = {"errcode": 0, "errmsg": "ok", "msgid": f"{next(self._ids):06d}-" + secrets.token_urlsafe(42)[:56]}
            if payload.get("msgtype") == "template_card":
                card = payload.get("template_card") or {}
                problem = card_problem(card)
                if problem or card.get("task_id") in self.task_ids:
                    return {"errcode": 40058, "errmsg": f"template_card: {problem or 'task_id used before'}"}
                code = secrets.token_urlsafe(32)
                with self.lock:
                    self.task_ids.add(str(card["task_id"]))
                    self.codes_of_cards[code] = (str(payload.get("touser")), self.now() + CODE_HOURS * 3600, False)
                sent["response_code"] = code
            return sent
        if method == "message/update_template_card":
            code = str(payload.get("response_code") or "")
            with self.lock:
                member, until, used = self.codes_of_cards.get(code, ("", 0.0, True))
            if used or until < self.now() or member not in (payload.get("userids") or []):
                return {"errcode": 40058, "errmsg": "invalid response_code"}
            problem = card_problem(payload.get("template_card") or {})
            if problem:
                return {"errcode": 40058, "errmsg": f"template_card: {problem}"}
            with self.lock:
                self.codes_of_cards[code] = (member, until, True)
            return {"errcode": 0, "errmsg": "ok", "invaliduser": []}
        if method == "appchat/create":
            members = payload.get("userlist") or []
            if len(members) < 2 or len(members) > 2000 or (payload.get("owner") and payload["owner"] not in members):
                return {"errcode": 86215, "errmsg": "chat member count invalid"}
            chat = str(payload.get("chatid") or f"wrchat{next(self._ids)}")
            with self.lock:
                self.chats[chat] = {"name": payload.get("name", ""), "members": list(members)}
            return {"errcode": 0, "errmsg": "ok", "chatid": chat}
        if method == "menu/create":
            problem = menu_problem(payload)
            if problem:
                return {"errcode": 40016, "errmsg": problem}
            with self.lock:
                self.menu = payload
            return {"errcode": 0, "errmsg": "ok"}
        if method == "auth/getuserinfo":
            with self.lock:
                user = self.codes.pop(query.get("code", ""), None)
            if user is None:
                return {"errcode": 40029, "errmsg": "invalid code"}
            return {"errcode": 0, "errmsg": "ok", "userid": user, "user_ticket": secrets.token_hex(8)}
        if method == "department/list":
            return {"errcode": 0, "errmsg": "ok", "department": [
                {"id": i, "name": name, "parentid": parent, "order": i} for i, name, parent in self.departments]}
        if method == "user/simplelist":
            return {"errcode": 0, "errmsg": "ok", "userlist": [
                {"userid": user, "name": name, "department": departments} for user, name, departments in self.members]}
        if method == "media/upload":
            media = f"media{next(self._ids)}"
            with self.lock:
                self.media[media] = _uploaded(body)
            return {"errcode": 0, "errmsg": "ok", "type": query.get("type"), "media_id": media, "bytes": len(body)}
        return {"errcode": 60020, "errmsg": f"unknown method {method}"}


class WeComSender:
    """Sends callbacks to the bot as WeCom does: signed, encrypted, with a timestamp."""

    def __init__(self, url: str, crypto: WeComCrypto, corp_id: str, agent_id: str) -> None:
        self.url, self.crypto, self.corp_id, self.agent_id = url, crypto, corp_id, agent_id
        self._ids = itertools.count(1)

    def _query(self, encrypted: str, timestamp: int | None, signature: str | None = None) -> str:
        stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(4)
        return urllib.parse.urlencode({"msg_signature": signature or self.crypto.signature(stamp, nonce, encrypted),
                                       "timestamp": stamp, "nonce": nonce})

    def verify_url(self, echo: str = "1616140317555161061", timestamp: int | None = None) -> tuple[int, bytes]:
        encrypted = self.crypto.encrypt(echo)
        query = self._query(encrypted, timestamp) + "&" + urllib.parse.urlencode({"echostr": encrypted})
        return self._send(f"{self.url}?{query}", None)

    def text(self, user: str, content: str, msg_id: str | None = None, timestamp: int | None = None,
             signature: str | None = None, crypto: WeComCrypto | None = None) -> tuple[int, bytes]:
        msg_id = msg_id or f"{7000000000000000000 + next(self._ids)}"
        inner = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
                 f"</FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                 f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{self.agent_id}</AgentID>"
                 "</xml>")
        encrypted = (crypto or self.crypto).encrypt(inner)
        envelope = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]>"
                    f"</Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>")
        return self._send(f"{self.url}?{self._query(encrypted, timestamp, signature)}", envelope.encode())

    def enter_agent(self, user: str, timestamp: int | None = None) -> tuple[int, bytes]:
        return self.event(user, "enter_agent", "", timestamp)

    def click(self, user: str, key: str, timestamp: int | None = None, created: int | None = None
              ) -> tuple[int, bytes]:
        """A press on a menu entry of type click (`created`: when, in WeCom's whole seconds)."""
        return self.event(user, "click", key, timestamp, created)

    def event(self, user: str, event: str, key: str, timestamp: int | None = None, created: int | None = None
              ) -> tuple[int, bytes]:
        inner = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{user}]]>"
                 f"</FromUserName><CreateTime>{created or int(time.time())}</CreateTime>"
                 f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
                 f"<EventKey><![CDATA[{key}]]></EventKey><AgentID>{self.agent_id}</AgentID></xml>")
        encrypted = self.crypto.encrypt(inner)
        envelope = (f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return self._send(f"{self.url}?{self._query(encrypted, timestamp)}", envelope.encode())

    def _send(self, url: str, body: bytes | None) -> tuple[int, bytes]:
        request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                         headers={"Content-Type": "text/xml"} if body is not None else {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
