"""The app's menu as WeCom's 自定义菜单 takes it: an entry that opens a form is a link (view)
to the form's page, any other a click whose key is the line it stands for; names are cut to
WeCom's 16 bytes (a sub-entry's 40), visibly."""

from __future__ import annotations

from typing import Any

from bot.conversation.commands import COMMAND_BUTTON
from bot.conversation.menu import MenuGroup
from bot.core.views import Button
from handlers.wecom.markdown import press_url
from handlers.wecom.signing import Signer

TOP_BYTES, SUB_BYTES, KEY_BYTES = 16, 40, 128


def fit(name: str, most: int) -> str:
    if len(name.encode()) <= most:
        return name
    while len((name + "…").encode()) > most:
        name = name[:-1]
    return name + "…"


def wecom_menu(groups: list[MenuGroup], base_url: str, signer: Signer) -> dict[str, Any]:
    """A form's entry links to its page, signed for anyone (the menu is everyone's); without
    a public address there is no page to link to: the entry is then a click too, and is
    answered with the form's link as a typed line is."""
    buttons = []
    for group in groups[:3]:
        subs = []
        for entry in group.entries[:5]:
            if entry.opens_form and base_url:
                subs.append({"type": "view", "name": fit(entry.label, SUB_BYTES),
                             "url": press_url(base_url, Button(entry.label, COMMAND_BUTTON, entry.line), signer)})
            else:
                subs.append({"type": "click", "name": fit(entry.label, SUB_BYTES),
                             "key": entry.line.encode()[:KEY_BYTES].decode(errors="ignore")})
        buttons.append({"name": fit(group.label, TOP_BYTES), "sub_button": subs})
    return {"button": buttons}
