"""Neutral views as WeCom markdown (the subset its `markdown` messages take: bold, quotes,
`<font color>`). User text is made inert: the characters WeCom's markdown acts on are shown
as their full-width look-alikes, so a symptom can never become a link or a heading. A
message over WeCom's 2,048 bytes is cut at a line and says so."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from bot.core.views import Actions, Button, Card, Context, Divider, FieldList, Image, Mention, Message, Paragraph, Table
from handlers.wecom.signing import ANYONE, Signer

LIMIT_BYTES = 2048
PRESS_PATH = "/wecom/press"  # csatbot's page for a button pressed in WeCom (handlers.wecom.pages)
Link = Callable[[Button], str]
INERT = str.maketrans({"*": "＊", "#": "＃", "[": "［", "]": "］", "`": "｀", ">": "＞", "<": "＜", "_": "＿"})


def press_url(base_url: str, button: Button, signer: Signer | None = None, user: str = ANYONE) -> str:
    """Where a button in a WeCom message leads: its own link, or this page for its action,
    signed for `user` (whoever else opens it is asked first)."""
    if button.url:
        return button.url.replace(")", "%29").replace(" ", "%20")  # a bracket would end the markdown link
    fields = {"a": button.action, "v": button.value}
    if signer is not None:
        fields["s"] = signer.link(user, button.action, button.value)
    return f"{base_url.rstrip('/')}{PRESS_PATH}?{urllib.parse.urlencode(fields)}"


def inert(text: str) -> str:
    return (text or "").translate(INERT)


def _card(card: Card, link: Link | None) -> list[str]:
    lines = [f"**{inert(card.title)}**"] if card.title else []
    for part in card.parts:
        if isinstance(part, Paragraph):
            lines.append(f"**{inert(part.text)}**" if part.strong else inert(part.text))
        elif isinstance(part, Mention):
            lines.append(inert(part.text))
        elif isinstance(part, FieldList):
            lines += [f"{inert(f.label)}：{inert(f.value)}" for f in part.fields]
        elif isinstance(part, Table):
            for row in part.rows:
                cells = [inert(str(c)) for c in row]
                rest = [f"{inert(col)} {cell}" if len(part.columns) > 2 else cell
                        for col, cell in zip(part.columns[1:], cells[1:], strict=False)]
                lines.append(" · ".join([f"**{cells[0]}**" if cells else "", *rest]))
        elif isinstance(part, Context):
            lines.append(f'<font color="comment">{inert(part.text)}</font>')
        elif isinstance(part, Image):
            lines.append(f'<font color="comment">📈 {inert(part.title or part.alt)}</font>')
        elif isinstance(part, Divider):
            lines.append("")
        elif isinstance(part, Actions) and link is not None:
            lines.append("　".join(f"[{inert(b.label)}]({link(b)})" for b in part.buttons))
    return lines


def render_markdown(message: Message, cut_note: str = "…", link: Link | None = None) -> str:
    """`link` gives each button's address (a press opens csatbot's page for it); without
    one, buttons are left out and the message states its facts."""
    lines: list[str] = []
    for index, card in enumerate(message.cards):
        if index:
            lines.append("")
        lines += _card(card, link)
    if not lines:
        lines = [inert(message.text)]
    shown: list[str] = []
    for line in lines:
        if len("\n".join([*shown, line, cut_note]).encode()) > LIMIT_BYTES:
            shown.append(cut_note)
            break
        shown.append(line)
    return "\n".join(shown)
