"""Neutral views rendered as Block Kit. All view text is escaped here, so user input never
becomes a mention, a channel-wide ping or a link."""

from __future__ import annotations

import re
from typing import Any

from bot.texts import display_width, pad
from bot.views import (
    Actions,
    Card,
    Context,
    Divider,
    FieldList,
    Form,
    FormField,
    Home,
    Image,
    Mention,
    Message,
    Paragraph,
    Part,
    Table,
)

USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
SECTION_TEXT_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100


def escape(text: str) -> str:
    """Slack's three control characters; nothing else is special once these are escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = 150) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text or " ", limit), "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text or " ", SECTION_TEXT_LIMIT)}


def render_table(table: Table) -> str:
    """A table as monospace text, CJK-width aligned (Block Kit has no table block for bots)."""
    rows = [table.columns, *table.rows]
    widths = [max(display_width(str(r[i])) if i < len(r) else 0 for r in rows) for i in range(len(table.columns))]
    lines = ["  ".join(pad(str(cell), widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "```" + escape("\n".join(lines)) + "```"


def render_part(part: Part, index: int) -> list[dict[str, Any]]:
    if isinstance(part, Paragraph):
        text = escape(part.text)
        return [{"type": "section", "text": mrkdwn(f"*{text}*" if part.strong else text)}]
    if isinstance(part, Mention):
        who = f"<@{part.user}> " if USER_ID.match(part.user) else ""
        return [{"type": "section", "text": mrkdwn(who + escape(part.text))}]
    if isinstance(part, FieldList):
        blocks = []
        for start in range(0, len(part.fields), 10):
            chunk = part.fields[start : start + 10]
            blocks.append({"type": "section", "fields": [
                mrkdwn(clip(f"*{escape(f.label)}*\n{escape(f.value)}", 2000)) for f in chunk
            ]})
        return blocks
    if isinstance(part, Table):
        return [{"type": "section", "text": mrkdwn(render_table(part))}]
    if isinstance(part, Actions):
        elements = []
        for button in part.buttons[:25]:
            element: dict[str, Any] = {"type": "button", "text": plain(button.label, 75),
                                       "action_id": clip(button.action, 255)}
            if button.value:
                element["value"] = clip(button.value, 2000)
            if button.style in ("primary", "danger"):
                element["style"] = button.style
            if button.url:
                element["url"] = button.url
            elements.append(element)
        return [{"type": "actions", "block_id": f"actions-{index}", "elements": elements}] if elements else []
    if isinstance(part, Image):
        block: dict[str, Any] = {"type": "image", "image_url": part.url, "alt_text": clip(part.alt or " ", 2000)}
        if part.title:
            block["title"] = plain(part.title, 2000)
        return [block]
    if isinstance(part, Context):
        return [{"type": "context", "elements": [mrkdwn(escape(part.text))]}]
    if isinstance(part, Divider):
        return [{"type": "divider"}]
    return [{"type": "section", "text": mrkdwn(f"[{type(part).__name__}]")}]


def render_card(card: Card) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(card.title)}] if card.title else []
    for index, part in enumerate(card.parts):
        blocks.extend(render_part(part, index))
    return blocks


def render_message(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """(notification text, blocks); the text is escaped too, since Slack parses it."""
    blocks: list[dict[str, Any]] = []
    for index, card in enumerate(message.cards):
        if index:
            blocks.append({"type": "divider"})
        blocks.extend(render_card(card))
    if len(blocks) > MESSAGE_BLOCK_LIMIT:
        blocks = blocks[: MESSAGE_BLOCK_LIMIT - 1] + [{"type": "context", "elements": [mrkdwn("…")]}]
    return clip(escape(message.text), 4000), blocks


def render_home(home: Home) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for index, card in enumerate(home.cards):
        if index:
            blocks.append({"type": "divider"})
        blocks.extend(render_card(card))
    return {"type": "home", "blocks": blocks[:VIEW_BLOCK_LIMIT]}


def _element(field: FormField) -> dict[str, Any]:
    action = field.key
    if field.kind in ("text", "multiline"):
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": action,
                                   "multiline": field.kind == "multiline"}
        if field.max_length:
            element["max_length"] = field.max_length
        if field.initial:
            element["initial_value"] = field.initial
    elif field.kind == "number":
        element = {"type": "number_input", "action_id": action, "is_decimal_allowed": True}
        if field.min_value is not None:
            element["min_value"] = _number(field.min_value)
        if field.max_value is not None:
            element["max_value"] = _number(field.max_value)
        if field.initial not in (None, ""):
            element["initial_value"] = str(field.initial)
    elif field.kind == "select":
        options = [{"text": plain(o.label, 75), "value": o.value} for o in field.options[:100]]
        element = {"type": "static_select", "action_id": action}
        if any(o.group for o in field.options):
            groups: dict[str, list[dict[str, Any]]] = {}
            for option, rendered in zip(field.options, options, strict=False):
                groups.setdefault(option.group or "", []).append(rendered)
            element["option_groups"] = [{"label": plain(label or "—", 75), "options": items}
                                        for label, items in groups.items()]
        else:
            element["options"] = options
        chosen = next((o for o in options if o["value"] == field.initial), None)
        if chosen:
            element["initial_option"] = chosen
    elif field.kind == "customer":
        element = {"type": "external_select", "action_id": action, "min_query_length": 0}
        if field.initial and field.options:
            element["initial_option"] = {"text": plain(field.options[0].label, 75), "value": field.options[0].value}
    elif field.kind == "date":
        element = {"type": "datepicker", "action_id": action}
        if field.initial:
            element["initial_date"] = field.initial
    elif field.kind == "datetime":
        element = {"type": "datetimepicker", "action_id": action}
        if field.initial:
            element["initial_date_time"] = int(field.initial)
    elif field.kind == "file":
        element = {"type": "file_input", "action_id": action, "max_files": 10}
    elif field.kind == "user":
        element = {"type": "users_select", "action_id": action}
        if field.initial:
            element["initial_user"] = field.initial
    else:
        raise ValueError(f"unknown form field kind {field.kind!r}")
    if field.placeholder and field.kind not in ("file", "datetime"):
        element["placeholder"] = plain(field.placeholder)
    return element


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def render_form(form: Form) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if form.intro:
        blocks.append({"type": "section", "text": mrkdwn(escape(form.intro))})
    for field in form.fields:
        block: dict[str, Any] = {"type": "input", "block_id": field.key, "label": plain(field.label, 2000),
                                 "element": _element(field), "optional": not field.required}
        if field.hint:
            block["hint"] = plain(field.hint, 2000)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": form.callback_id,
        "title": plain(form.title, 24),
        "submit": plain(form.submit, 24),
        "close": plain(form.close, 24),
        "private_metadata": clip(form.private_metadata, 3000),
        "blocks": blocks[:VIEW_BLOCK_LIMIT],
    }


def form_values(state: dict[str, Any]) -> dict[str, Any]:
    """The submitted values of a rendered form, by field key, as plain Python values."""
    values: dict[str, Any] = {}
    for block_id, actions in (state.get("values") or {}).items():
        for _action_id, item in actions.items():
            kind = item.get("type")
            if kind in ("plain_text_input", "number_input"):
                values[block_id] = item.get("value")
            elif kind in ("static_select", "external_select"):
                selected = item.get("selected_option")
                values[block_id] = selected.get("value") if selected else None
            elif kind == "datepicker":
                values[block_id] = item.get("selected_date")
            elif kind == "datetimepicker":
                values[block_id] = item.get("selected_date_time")
            elif kind == "users_select":
                values[block_id] = item.get("selected_user")
            elif kind == "file_input":
                values[block_id] = item.get("files") or []
            else:
                values[block_id] = item.get("value")
    return values
