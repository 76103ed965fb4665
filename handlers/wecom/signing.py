"""What csatbot's WeCom pages trust: values it signed itself, keyed by the app's WeCom secrets
(so every replica signs alike), each for one purpose: the session cookie, a form's state, a
confirmation, and the links in messages, signed for the person they were sent to (or for
anyone, in the group and the menu), so that a link someone else made does nothing by itself."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import zlib
from typing import Any

from bot.core.settings import Settings

ANYONE = "*"  # a link in the group or the menu: any signed-in person may press it


class Signer:
    def __init__(self, secret: str) -> None:
        self.key = hashlib.sha256(f"csatbot-wecom-pages:{secret}".encode()).digest()

    @classmethod
    def of(cls, settings: Settings) -> Signer:
        return cls(f"{settings.wecom_corp_id}:{settings.wecom_secret}:{settings.wecom_aes_key}")

    def _mac(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()

    def sign(self, purpose: str, data: dict[str, Any], expires: dt.datetime) -> str:
        raw = zlib.compress(json.dumps({**data, "p": purpose, "exp": int(expires.timestamp())}, ensure_ascii=False,
                                       separators=(",", ":")).encode())
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{body}.{self._mac(body)}"

    def unsign(self, purpose: str, token: str, now: dt.datetime) -> dict[str, Any] | None:
        """The data of a token this signer made for `purpose` and not yet expired; None for
        anything else, however malformed."""
        body, _, mac = (token or "").partition(".")
        if not body or not hmac.compare_digest(self._mac(body).encode(), mac.encode("utf-8", "replace")):
            return None
        try:
            data = json.loads(zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))
        except (ValueError, zlib.error):
            return None
        if not isinstance(data, dict) or data.get("p") != purpose or int(data.get("exp") or 0) < now.timestamp():
            return None
        return data

    def link(self, user: str, action: str, value: str) -> str:
        """The signature of a button's link for `user` (or ANYONE)."""
        return self._mac(f"press|{user}|{action}|{value}")[:32]

    def link_is_for(self, user: str, action: str, value: str, signature: str) -> bool:
        given = (signature or "").encode("utf-8", "replace")
        return any(hmac.compare_digest(self.link(who, action, value).encode(), given) for who in (user, ANYONE))
