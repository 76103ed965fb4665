"""A message with buttons as WeCom's button-interaction template card (按钮交互型), inside
WeCom's limits: a title of 36 characters, at most 6 fields of a 5-character name and a
30-character value, 160 characters of text, 6 buttons of 10 characters. A message whose text
or fields do not fit stays a markdown message (2,048 bytes, its buttons as links). A title,
a field or a button's label too long is cut with "…", and the card then says so; with more
than 6 buttons the last is "more". Both link, as the card's own click does, to the page that
shows the whole message with every button."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from bot.core.views import (
    Actions,
    Button,
    Card,
    Context,
    Divider,
    Field,
    FieldList,
    Image,
    Mention,
    Message,
    Paragraph,
    Table,
)

TITLE, DESC, TEXT = 36, 44, 160
FIELDS, FIELD_NAME, FIELD_VALUE = 6, 5, 30
BUTTONS, BUTTON_TEXT = 6, 10
STYLES = {"primary": 1, None: 2, "danger": 3}  # WeCom's 1 is its blue, 3 red
TASK_ID = re.compile(r"[^0-9A-Za-z_\-@]")


def _cut(text: str, most: int) -> tuple[str, bool]:
    text = " ".join((text or "").split()) if "\n" not in (text or "") else (text or "").strip()
    return (text, False) if len(text) <= most else (text[: most - 1].rstrip() + "…", True)


def task_id(key: str) -> str:
    """A task id WeCom takes (digits, letters, `_-@`, 128 bytes, unique per app) from the
    outbox key, which is unique: readable where it can be, with a hash that keeps it unique."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{TASK_ID.sub('-', key)[:100]}-{digest}"


def _text_of(card: Card, skip: FieldList | None) -> list[str]:
    lines: list[str] = []
    for part in card.parts:
        if isinstance(part, Paragraph | Mention | Context):
            lines.append(part.text)
        elif isinstance(part, FieldList) and part is not skip:
            lines += [f"{f.label}：{f.value}" for f in part.fields]
        elif isinstance(part, Table):
            lines += [" · ".join(str(c) for c in row) for row in part.rows]
        elif isinstance(part, Image):
            lines.append(f"📈 {part.title or part.alt}")
        elif isinstance(part, Divider):
            continue
    return [line for line in lines if line]


def template_card(message: Message, key: str, press: Callable[[Button], str], whole: str, more_label: str,
                  cut_note: str) -> dict[str, Any] | None:
    """The card for a message whose card has buttons (None for one without: markdown says it
    better); `press` is a button's link, `whole` the page with all of the message."""
    card = next((c for c in message.cards if any(isinstance(p, Actions) for p in c.parts)), None)
    if card is None:
        return None
    buttons = [b for part in card.parts if isinstance(part, Actions) for b in part.buttons]
    fields_part = next((p for p in card.parts if isinstance(p, FieldList)), None)
    fields: list[Field] = list(fields_part.fields) if fields_part else []
    others = [c for c in message.cards if c is not card]
    cut = len(fields) > FIELDS or bool(others)
    shown_fields = []
    for item in fields[:FIELDS]:
        name, name_cut = _cut(item.label, FIELD_NAME)
        value, value_cut = _cut(item.value, FIELD_VALUE)
        cut = cut or name_cut or value_cut
        shown_fields.append({"keyname": name, "value": value})
    lines = [f"{f.label}：{f.value}" for f in fields[FIELDS:]] + _text_of(card, fields_part)
    for other in others:
        lines += [other.title, *_text_of(other, None)]
    text, text_cut = _cut("\n".join(line for line in lines if line) or message.text, TEXT)
    if text_cut or len(fields) > FIELDS:  # more than a card holds: markdown (2,048 bytes) says all of it
        return None
    title, title_cut = _cut(card.title or message.text, TITLE)
    cut = cut or text_cut or title_cut
    if len(buttons) > BUTTONS:
        cut = True
    listed = buttons[: BUTTONS - 1] if len(buttons) > BUTTONS else buttons
    button_list = [{"type": 1, "text": _cut(b.label, BUTTON_TEXT)[0], "style": STYLES.get(b.style, 2),
                    "url": press(b)} for b in listed]
    if len(buttons) > BUTTONS:
        button_list.append({"type": 1, "text": _cut(more_label, BUTTON_TEXT)[0], "style": 2, "url": whole})
    main: dict[str, Any] = {"title": title}
    if cut:
        main["desc"] = _cut(cut_note, DESC)[0]
    body: dict[str, Any] = {"card_type": "button_interaction", "source": {"desc": "csatbot", "desc_color": 0},
                            "main_title": main, "task_id": task_id(key), "button_list": button_list,
                            "card_action": {"type": 1, "url": whole}}
    if text:
        body["sub_title_text"] = text
    if shown_fields:
        body["horizontal_content_list"] = shown_fields
    return body
