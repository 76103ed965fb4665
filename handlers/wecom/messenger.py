"""The messenger port for WeCom: a person's messages through `message/send` (markdown), a
chart through `media/upload` then an image message; the access token shared through the
database. WeCom's 45009/45033 (too many calls) are retried later like Slack's 429; 40014 and
42001 (the token is no longer valid) fetch a new one once. A member's limits per minute and
hour, which WeCom enforces by dropping messages silently, are counted in the outbox before
each send."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from bot.core.i18n import gettext_for
from bot.core.outbox import sent_since
from bot.core.ports import DeliveryError, Posted
from bot.core.settings import Settings
from bot.core.shared_tokens import shared_token
from bot.core.views import Actions, Home, Message
from bot.people.identities import canonical, person_by_identity
from handlers.wecom.cards import template_card
from handlers.wecom.markdown import LIMIT_BYTES, inert, press_url, render_markdown
from handlers.wecom.signing import ANYONE, Signer

RATE_LIMITED = {45009, 45033, 45011}
TOKEN_INVALID = {40014, 42001, 41001}
# WeCom drops, without an error, what an app sends one member beyond 30 a minute or 1,000 an
# hour ("访问频率限制"); csatbot stays under both, with room for sends in flight elsewhere
PER_MEMBER_LIMITS = ((dt.timedelta(minutes=1), 25), (dt.timedelta(hours=1), 900))
VIEW_PATH = "/wecom/view"  # the page with the whole of a sent message (handlers.wecom.pages)
PREFIX = "wecom:"  # how bot.people.identities.address writes a WeCom userid
CHAT_PREFIX = "wecom-chat:"  # an application group chat (appchat) by its chatid: the quality channel in WeCom
ROBOT_PREFIX = "wecom-robot:"  # or a group robot by its webhook key, where a company prefers one
GROUPS = (CHAT_PREFIX, ROBOT_PREFIX)
# a group robot takes 20 messages a minute ("消息发送频率限制"); past it WeCom answers 45009
ROBOT_LIMITS = ((dt.timedelta(minutes=1), 18),)
REPLY, UPDATED = "↩", "↻"  # WeCom has no threads and cannot edit a group message: what it replies to is quoted
UPDATABLE = "rc:"  # a sent card's "ts": the response_code that changes it once
TS_LENGTH = 128  # what the outbox keeps of a sent message's id


def _label(text: str) -> str:
    """What a group message is known by (its "ts"): how a reply to it or a newer version of
    it quotes it; the outbox keeps 32 characters."""
    return " ".join(text.split())[:32] or "csatbot"


class WeComMessenger:
    def __init__(self, settings: Settings, session: Callable[[], AbstractContextManager[Any]],
                 now: Callable[[], dt.datetime], timeout: float = 10) -> None:
        self.settings = settings
        self.session = session
        self.now = now
        self.timeout = timeout
        self._held: tuple[str, dt.datetime] | None = None  # the shared token, until it is to be renewed
        self.signer = Signer.of(settings)

    # --- the API ---------------------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, int]:
        query = urllib.parse.urlencode({"corpid": self.settings.wecom_corp_id,
                                        "corpsecret": self.settings.wecom_secret})
        answer = self._request(f"gettoken?{query}", None)
        if answer.get("errcode"):
            raise DeliveryError(f"gettoken: {answer.get('errcode')} {answer.get('errmsg')}", permanent=True)
        return str(answer["access_token"]), int(answer.get("expires_in") or 7200)

    def _token(self, renew: bool = False) -> str:
        """The shared token, kept in this process until it is to be renewed (one read of the
        database per token, not per message); a refused one is renewed through the database."""
        held = self._held
        if held is not None and not renew and held[1] > self.now():
            return held[0]
        with self.session() as session:
            token, until = shared_token(session, "wecom", self.now(), self._fetch_token)
            if renew and held is not None and token == held[0]:  # not renewed elsewhere meanwhile
                token, until = shared_token(session, "wecom", self.now(), self._fetch_token, renew=True)
        self._held = (token, until)
        return token

    def _request(self, path: str, body: bytes | None, content_type: str = "application/json",
                 method: str | None = None) -> dict[str, Any]:
        request = urllib.request.Request(self.settings.wecom_base + path, data=body if method != "GET" else None,
                                         headers={"Content-Type": content_type} if body is not None else {},
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310 - the configured API
                found = json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise DeliveryError(f"WeCom answered HTTP {error.code}", retry_after=5 if error.code >= 500 else None,
                                in_doubt=error.code >= 500) from error
        except (OSError, ValueError) as error:
            raise DeliveryError(f"connection error: {error}", in_doubt=True) from error
        if not isinstance(found, dict):
            raise DeliveryError("WeCom answered with something other than an object", in_doubt=True)
        return found

    def _call(self, method: str, payload: dict[str, Any] | None = None, *, query: str = "", body: bytes | None = None,
              content_type: str = "application/json", http: str | None = None) -> dict[str, Any]:
        """A Web API call with the shared token (renewed once when WeCom refuses it), WeCom's
        errcodes turned into delivery errors; a JSON payload, or a raw body (an upload)."""
        data = body if body is not None else json.dumps(payload or {}, ensure_ascii=False).encode()
        for attempt in (0, 1):
            token = urllib.parse.quote(self._token(renew=attempt == 1))
            answer = self._request(f"{method}?access_token={token}{query}", data, content_type, http)
            code = int(answer.get("errcode") or 0)
            if code in TOKEN_INVALID and attempt == 0:
                continue
            if code in RATE_LIMITED:
                raise DeliveryError(f"{method}: rate limited ({code})", retry_after=60)
            if code:
                raise DeliveryError(f"{method}: {code} {answer.get('errmsg')}", permanent=code not in (-1,))
            return answer
        raise DeliveryError(f"{method}: the access token was refused twice", permanent=True)

    def user_of_code(self, code: str) -> str | None:
        """The member an OAuth2 code was given to (`auth/getuserinfo`); None when WeCom
        refuses the code (used, expired, forged) or it names someone outside the corp."""
        try:
            answer = self._call("auth/getuserinfo", None, query="&" + urllib.parse.urlencode({"code": code[:512]}),
                                body=b"", http="GET")
        except DeliveryError:
            return None
        user = answer.get("userid") or answer.get("UserId")
        return canonical("wecom", str(user)) if user else None

    def create_menu(self, menu: dict[str, Any]) -> None:
        """The app's menu (`menu/create`), replacing the one it had."""
        self._call("menu/create", menu, query=f"&agentid={urllib.parse.quote(self.settings.wecom_agent_id)}")

    def create_chat(self, name: str, owner: str, members: list[str], chat_id: str = "") -> str:
        """An application group chat (`appchat/create`) with these members; its chatid."""
        payload: dict[str, Any] = {"name": name, "owner": owner, "userlist": members}
        if chat_id:
            payload["chatid"] = chat_id
        return str(self._call("appchat/create", payload)["chatid"])

    def departments_of_members(self) -> dict[str, str]:
        """Every member the app can see → the name of their first department (the address
        book as `department/list` and `user/simplelist` give it)."""
        listed = self._call("department/list", None, body=b"", http="GET").get("department") or []
        names = {int(d["id"]): str(d.get("name") or "") for d in listed}
        roots = [int(d["id"]) for d in listed if not d.get("parentid")] or sorted(names)[:1]
        members: dict[str, str] = {}
        for root in roots:
            answer = self._call("user/simplelist", None, query=f"&department_id={root}&fetch_child=1", body=b"",
                                http="GET")
            for member in answer.get("userlist") or []:
                departments = [int(d) for d in member.get("department") or []]
                members[str(member["userid"])] = names.get(departments[0], "") if departments else ""
        return members

    def _markdown(self, message: Message, reader: str = ANYONE) -> str:
        """Buttons become links to csatbot's own pages, signed for their reader, which WeCom
        opens signed in; without a public address there is nowhere to link, and the message
        states its facts only."""
        base = self.settings.public_url
        return render_markdown(message, link=(lambda button: press_url(base, button, self.signer, reader))
                               if base else None)

    # --- the port ---------------------------------------------------------------------------------------

    def _within_member_limits(self, target: str,
                              limits: tuple[tuple[dt.timedelta, int], ...] = PER_MEMBER_LIMITS) -> None:
        """A message that would pass a member's (or a robot's) limit waits in the outbox until
        it would not."""
        now = self.now()
        longest = max(window for window, _count in limits)
        with self.session() as session:
            sent = sent_since(session, target, now - longest)
        for window, most in limits:
            recent = [at for at in sent if at > now - window]
            if len(recent) >= most:
                wait = (recent[-most] + window - now).total_seconds()
                raise DeliveryError(f"{target}: {most} messages within {window} already", retry_after=max(1.0, wait))

    def _card(self, user_id: str, message: Message, key: str) -> dict[str, Any] | None:
        """The template card for a message with buttons, in its reader's language, its
        buttons signed for its reader, linking to the page with all of it (when the message
        has an outbox key to find it by); None without a public address (nothing to link to)."""
        base = self.settings.public_url
        if not base or not any(isinstance(p, Actions) for c in message.cards for p in c.parts):
            return None
        with self.session() as session:
            person = person_by_identity(session, "wecom", user_id)
            locale = (person.locale if person is not None else None) or self.settings.locale
        _ = gettext_for(locale)
        whole = f"{base.rstrip('/')}{VIEW_PATH}?{urllib.parse.urlencode({'m': key})}" if key else None
        # a task id of its own each time: a send retried after a doubtful answer is not refused
        return template_card(message, f"{key or user_id}:{uuid.uuid4().hex[:8]}",
                             lambda button: press_url(base, button, self.signer, user_id), whole, _("More"),
                             _("Shortened here: open the card for all of it."))

    def direct_message(self, user: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted:
        """A message with buttons as a template card (its `ts` the code that updates it once),
        anything else as markdown."""
        user_id = user.removeprefix(PREFIX)
        self._within_member_limits(PREFIX + user_id)
        card = self._card(user_id, message, key)
        base = {"touser": user_id, "agentid": int(self.settings.wecom_agent_id or 0)}
        if card is not None:
            answer = self._call("message/send", {**base, "msgtype": "template_card", "template_card": card})
            code = str(answer.get("response_code") or "")
            if code and len(UPDATABLE + code) <= TS_LENGTH:
                return Posted(channel=user, ts=UPDATABLE + code)
        else:  # no duplicate check: the same answer asked twice within 30 minutes would be dropped by it
            answer = self._call("message/send", {**base, "msgtype": "markdown",
                                                 "markdown": {"content": self._markdown(message, user_id)}})
        return Posted(channel=user, ts=str(answer.get("msgid") or "")[:TS_LENGTH])

    def _update_card(self, user: str, code: str, message: Message, key: str) -> Posted | None:
        """The card sent once changed in place (`update_template_card`, its code good once, for
        72 hours); None when WeCom refuses the code for good (spent, expired), and a new
        message goes instead. A refusal that may pass (busy, limits) is tried again later."""
        user_id = user.removeprefix(PREFIX)
        card = self._card(user_id, message, key)
        if card is None:
            return None
        try:
            self._call("message/update_template_card", {
                "userids": [user_id], "agentid": int(self.settings.wecom_agent_id or 0), "response_code": code,
                "template_card": card})
        except DeliveryError as error:
            if not error.permanent:
                raise
            return None
        return Posted(channel=user, ts="")

    def _robot(self, method: str, key: str, body: bytes, content_type: str = "application/json",
               **query: str) -> dict[str, Any]:
        """A group robot's API: its key is its credential (no access token)."""
        answer = self._request(f"{method}?{urllib.parse.urlencode({'key': key, **query})}", body, content_type)
        code = int(answer.get("errcode") or 0)
        if code in RATE_LIMITED:
            raise DeliveryError(f"{method}: rate limited ({code})", retry_after=60)
        if code:
            raise DeliveryError(f"{method}: {code} {answer.get('errmsg')}", permanent=code not in (-1,))
        return answer

    def _to_group(self, channel: str, payload: dict[str, Any]) -> None:
        """A message in the quality group: the application group chat, or the group robot."""
        if channel.startswith(CHAT_PREFIX):
            self._call("appchat/send", {"chatid": channel.removeprefix(CHAT_PREFIX), **payload, "safe": 0})
            return
        self._within_member_limits(channel, ROBOT_LIMITS)
        self._robot("webhook/send", channel.removeprefix(ROBOT_PREFIX),
                    json.dumps(payload, ensure_ascii=False).encode())

    def _to_chat(self, channel: str, message: Message, quoted: str = "") -> Posted:
        """A post in the group: a reply quotes what it replies to (a complaint's title and
        number), which is also what its own replies will quote."""
        content = self._markdown(message)
        if quoted:
            content = f"> {quoted}\n{content}"
            content = content if len(content.encode()) <= LIMIT_BYTES else self._markdown(message)
        self._to_group(channel, {"msgtype": "markdown", "markdown": {"content": content}})
        return Posted(channel=channel, ts=_label(message.text or (message.cards[0].title if message.cards else "")))

    def post(self, channel: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted:
        if channel.startswith(GROUPS):
            return self._to_chat(channel, message, f"{REPLY} {inert(thread_ts)}" if thread_ts else "")
        return self.direct_message(channel if channel.startswith(PREFIX) else PREFIX + channel, message, thread_ts,
                                   key)

    def update(self, channel: str, ts: str, message: Message, key: str = "") -> Posted:
        """A card is changed in place once; a markdown message cannot be edited in WeCom, and
        a card whose code is spent neither: the newer state follows as a new message. `key`
        is the outbox key of the message changed (what its page shows)."""
        if channel.startswith(GROUPS):
            return self._to_chat(channel, message, f"{UPDATED} {inert(ts)}")
        if ts.startswith(UPDATABLE):
            updated = self._update_card(channel, ts.removeprefix(UPDATABLE), message, key)
            if updated is not None:
                return updated
        return self.direct_message(channel, message, key=key)

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Posted:
        return self.direct_message(user if user.startswith(PREFIX) else PREFIX + user, message)

    def publish_home(self, user: str, home: Home) -> Posted:
        return self.direct_message(user, Message(text="", cards=home.cards))

    def upload_image(self, channel: str, png: bytes, filename: str, title: str, thread_ts: str | None = None,
                     key: str = "") -> Posted:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"media\"; filename=\"{filename}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + png + f"\r\n--{boundary}--\r\n".encode()
        kind = "image" if filename.lower().endswith(".png") else "file"
        form = f"multipart/form-data; boundary={boundary}"
        if channel.startswith(ROBOT_PREFIX):  # a robot uploads its own files, and takes an image as it is
            self._within_member_limits(channel, ROBOT_LIMITS)
            if kind == "image":
                self._robot("webhook/send", channel.removeprefix(ROBOT_PREFIX), json.dumps({
                    "msgtype": "image", "image": {"base64": base64.b64encode(png).decode(),
                                                  "md5": hashlib.md5(png).hexdigest()}}).encode())  # noqa: S324
            else:
                media = self._robot("webhook/upload_media", channel.removeprefix(ROBOT_PREFIX), body, form,
                                    type="file")["media_id"]
                self._robot("webhook/send", channel.removeprefix(ROBOT_PREFIX),
                            json.dumps({"msgtype": "file", "file": {"media_id": media}}).encode())
            return Posted(channel=channel, ts=_label(title or filename))
        if not channel.startswith(CHAT_PREFIX):
            self._within_member_limits(channel if channel.startswith(PREFIX) else PREFIX + channel)
        uploaded = self._call("media/upload", query=f"&type={kind}", body=body, content_type=form)
        if channel.startswith(CHAT_PREFIX):
            self._to_group(channel, {"msgtype": kind, kind: {"media_id": uploaded["media_id"]}})
            return Posted(channel=channel, ts=_label(title or filename))
        answer = self._call("message/send", {"touser": channel.removeprefix(PREFIX), "msgtype": kind,
                                             "agentid": int(self.settings.wecom_agent_id or 0),
                                             kind: {"media_id": uploaded["media_id"]}})
        return Posted(channel=channel, ts=str(answer.get("msgid") or ""))

    def find_sent(self, target: str, key: str, thread_ts: str | None, since: dt.datetime,
                  until: dt.datetime | None = None) -> Posted | None:
        """WeCom keeps no history an app can search; `message/send`'s duplicate check (30
        minutes, on identical content) is what keeps a retried message from arriving twice."""
        return None

    def open_dm(self, user: str) -> str:
        return user

    def user_locale(self, user: str) -> str | None:
        return None


class RoutingMessenger:
    """One port for the outbox whatever the messenger: a target `wecom:<userid>` or
    `wecom-chat:<chatid>` goes to WeCom, anything else to Slack."""

    def __init__(self, slack: Any, wecom: WeComMessenger) -> None:
        self.slack = slack
        self.wecom = wecom
        self.client = getattr(slack, "client", None)

    def _for(self, target: str) -> Any:
        return self.wecom if target.startswith((PREFIX, *GROUPS)) else self.slack

    def post(self, channel: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted:
        return self._for(channel).post(channel, message, thread_ts, key)  # type: ignore[no-any-return]

    def update(self, channel: str, ts: str, message: Message, key: str = "") -> Posted:
        return self._for(channel).update(channel, ts, message, key)  # type: ignore[no-any-return]

    def direct_message(self, user: str, message: Message, thread_ts: str | None = None, key: str = "") -> Posted:
        return self._for(user).direct_message(user, message, thread_ts, key)  # type: ignore[no-any-return]

    def post_ephemeral(self, channel: str, user: str, message: Message) -> Posted:
        return self._for(user).post_ephemeral(channel, user, message)  # type: ignore[no-any-return]

    def publish_home(self, user: str, home: Home) -> Posted:
        return self._for(user).publish_home(user, home)  # type: ignore[no-any-return]

    def upload_image(self, channel: str, png: bytes, filename: str, title: str, thread_ts: str | None = None,
                     key: str = "") -> Posted:
        return self._for(channel).upload_image(channel, png, filename, title, thread_ts, key)  # type: ignore[no-any-return]

    def find_sent(self, target: str, key: str, thread_ts: str | None, since: dt.datetime,
                  until: dt.datetime | None = None) -> Posted | None:
        return self._for(target).find_sent(target, key, thread_ts, since, until)  # type: ignore[no-any-return]

    def open_dm(self, user: str) -> str:
        return self._for(user).open_dm(user)  # type: ignore[no-any-return]

    def user_locale(self, user: str) -> str | None:
        return self._for(user).user_locale(user)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.slack, name)
