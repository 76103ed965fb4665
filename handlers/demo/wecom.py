"""The WeCom side of `csatbot demo --messenger wecom`: the WeCom API emulator the bot's WeCom
messenger talks to, and what the page that plays a WeCom client needs: each person's
conversation with the app and the quality group (the messages and cards the bot sent, a card
shown as it was last changed), the menu, and the person's typing, menu clicks and opening of
the app sent to the bot's real `/wecom/callback`, signed and encrypted as WeCom does. The
links in messages open csatbot's own pages; the emulator's OAuth2 page signs in whoever the
page says is using it."""

from __future__ import annotations

import secrets
import string
from dataclasses import replace
from typing import Any

from bot.conversation.menu import app_menu
from bot.core.settings import Settings
from handlers.testing.wecom_emulator import WeComEmulator, WeComSender
from handlers.wecom.crypto import WeComCrypto
from handlers.wecom.menu import wecom_menu

QUALITY_GROUP = "wrquality"
AGENT_ID = "1000002"


class WeComClient:
    def __init__(self, now: Any) -> None:
        self.now = now  # the demo's clock: the callback refuses a time stamp 5 minutes off its own
        self.emulator = WeComEmulator(now=lambda: now().timestamp()).start()
        self.token = "csatbotdemo"
        self.aes_key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
        self.sender: WeComSender | None = None

    def configure(self, settings: Settings) -> Settings:
        """The demo's settings with its WeCom app: the group as a copy of the quality channel,
        and people with both ids written to in both messengers."""
        return replace(settings, wecom_corp_id=self.emulator.corp_id, wecom_agent_id=AGENT_ID,
                       wecom_secret=self.emulator.secret, wecom_token=self.token, wecom_aes_key=self.aes_key,
                       wecom_api_url=self.emulator.api_url, wecom_oauth_url=self.emulator.oauth_url,
                       wecom_quality_chat=QUALITY_GROUP, direct_messages="both")

    def add_members(self, members: list[str]) -> None:
        """The quality group, with these members (before anything is posted in it)."""
        self.emulator.chats[QUALITY_GROUP] = {"name": "质量部", "members": members}

    def start(self, url: str, messenger: Any, locale: str) -> None:
        """Once the page's server runs: callbacks go to it, and the app's menu links to it."""
        self.sender = WeComSender(url + "/wecom/callback", WeComCrypto(self.token, self.aes_key, self.emulator.corp_id),
                                  self.emulator.corp_id, AGENT_ID)
        messenger.create_menu(wecom_menu(app_menu(locale), url, messenger.signer))

    def stop(self) -> None:
        self.emulator.stop()

    # --- what the page shows ---------------------------------------------------------------------------

    def conversation(self, user: str) -> dict[str, Any]:
        """The app's messages to `user` and the group's, oldest first; a card as it stands
        after its last change."""
        changed: dict[str, dict[str, Any]] = {}
        for call in self.emulator.calls_to("message/update_template_card"):
            if call.answer.get("errcode") == 0 and user in (call.body.get("userids") or []):
                changed[str(call.body.get("response_code"))] = call.body["template_card"]
        dropped = {id(call) for call in self.emulator.dropped}
        mine, group = [], []
        for index, call in enumerate(self.emulator.calls):
            if call.answer.get("errcode") != 0 or id(call) in dropped:
                continue
            if call.method == "message/send" and call.body.get("touser") == user:
                mine.append(self._shown(index, call.body, changed.get(str(call.answer.get("response_code")))))
            elif call.method == "appchat/send" and call.body.get("chatid") == QUALITY_GROUP:
                group.append(self._shown(index, call.body, None))
        return {"app": mine, "group": group, "menu": self.emulator.menu}

    def _shown(self, index: int, body: dict[str, Any], changed: dict[str, Any] | None) -> dict[str, Any]:
        kind = str(body.get("msgtype"))
        shown: dict[str, Any] = {"id": index, "kind": kind}
        if kind == "markdown":
            shown["content"] = body["markdown"]["content"]
        elif kind == "template_card":
            shown["card"] = changed or body["template_card"]
            shown["changed"] = changed is not None
        elif kind in ("image", "file"):
            media = str(body[kind]["media_id"])
            shown["media"] = media
            shown["name"] = self.emulator.media.get(media, ("file", b""))[0]
        return shown

    def media(self, media_id: str) -> tuple[str, bytes] | None:
        return self.emulator.media.get(media_id)

    # --- what the person does ----------------------------------------------------------------------------

    def text(self, user: str, text: str) -> int:
        assert self.sender is not None
        return self.sender.text(user, text, timestamp=self._stamp())[0]

    def click(self, user: str, key: str) -> int:
        assert self.sender is not None
        return self.sender.click(user, key, timestamp=self._stamp(), created=self._stamp())[0]

    def enter(self, user: str) -> int:
        assert self.sender is not None
        return self.sender.enter_agent(user, timestamp=self._stamp())[0]

    def _stamp(self) -> int:
        return int(self.now().timestamp())

    def sign_in(self, user: str) -> None:
        """Who WeCom's OAuth2 page says is opening the next link."""
        self.emulator.signed_in = user
