"""Neutral views rendered as Block Kit. All view text is escaped here, so user input never
becomes a mention, a channel-wide ping or a link."""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from bot.core.views import (
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


def escape_clipped(text: str, limit: int) -> str:
    """Escape, then clip without cutting an entity such as `&amp;` in half."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


TABLE_ROWS = 100  # header included
TABLE_COLUMNS = 20
TABLE_TEXT = 10_000  # characters across all cells of one table
TABLE_CELL = 500
LINES_SHOWN = 40


def render_table(table: Table, limit: int = SECTION_TEXT_LIMIT) -> str:
    """A table as plain lines for where Block Kit has no table (notifications, older clients):
    one row per line, each cell named by its column, so nothing depends on a monospace font."""
    lines = [_row_line(table.columns, row, strong=False) for row in table.rows]
    body = "\n".join(lines)
    shown = len(lines)
    while len(body) > limit and shown > 1:
        shown -= 1
        body = "\n".join(lines[:shown] + [f"… +{len(lines) - shown}"])
    return clip(body, limit)


def _row_line(columns: list[str], row: list[str], strong: bool = True) -> str:
    """`*first* · Column value · Column value`: a row read on a phone, wide characters and all."""
    cells = [str(cell) for cell in row]
    if not cells:
        return ""
    head = escape_clipped(cells[0], 300) if strong else cells[0]
    head = f"*{head}*" if strong and head else head
    rest = []
    for column, cell in zip(columns[1:], cells[1:], strict=False):
        value = escape_clipped(cell, 300) if strong else cell
        name = escape_clipped(column, 60) if strong else column
        named = len(columns) > 2 and name and name != "#"  # a two-column table reads as "first: second"
        rest.append(f"{name} {value}" if named else value)
    return "  ·  ".join([head, *rest]) if rest else head


def table_lines(table: Table) -> list[dict[str, Any]]:
    """A table as sections of lines, where a message already holds its one table block, and
    in App Home and dialogs, which have none."""
    lines = [_row_line(table.columns, row) for row in table.rows[:LINES_SHOWN]]
    blocks: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_TEXT_LIMIT:
            blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": mrkdwn("\n".join(chunk))})
    if len(table.rows) > LINES_SHOWN:
        blocks.append(_more_rows(len(table.rows) - LINES_SHOWN))
    return blocks


def _more_rows(count: int) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(f"… +{count} ↓")]}


def _numeric(values: list[str]) -> bool:
    pattern = re.compile(r"^[-+]?[\d,.]+\s*(%|‰|ppm|h)?$")
    present = [v for v in values if v.strip() not in ("", "—", "-", "·")]
    return bool(present) and all(pattern.match(v.strip()) for v in present)


def table_block(table: Table) -> list[dict[str, Any]]:
    """Block Kit's table: Slack draws the columns, so wide characters and emoji keep their
    place. Over its limits (100 rows, 20 columns, 10,000 characters) rows are dropped from the
    end and a line under it says how many; text columns wrap rather than cut."""
    columns = table.columns[:TABLE_COLUMNS]

    def cells(row: list[str]) -> list[dict[str, Any]]:
        values = [str(row[i]) if i < len(row) else "" for i in range(len(columns))]
        return [{"type": "raw_text", "text": clip(value, TABLE_CELL) or " "} for value in values]

    rows = [cells(columns)]
    used = sum(len(c["text"]) for c in rows[0])
    for row in table.rows[: TABLE_ROWS - 1]:
        rendered = cells(row)
        size = sum(len(c["text"]) for c in rendered)
        if used + size > TABLE_TEXT:
            break
        rows.append(rendered)
        used += size
    settings = [{"align": "right"} if _numeric([str(r[i]) for r in table.rows if i < len(r)])
                else {"is_wrapped": True} for i in range(len(columns))]
    blocks: list[dict[str, Any]] = [{"type": "table", "rows": rows, "column_settings": settings}]
    dropped = len(table.rows) - (len(rows) - 1)
    if dropped > 0 or len(table.columns) > TABLE_COLUMNS:
        blocks.append(_more_rows(dropped) if dropped > 0 else
                      {"type": "context", "elements": [mrkdwn(f"… +{len(table.columns) - TABLE_COLUMNS} →")]})
    return blocks


def render_part(part: Part, index: int) -> list[dict[str, Any]]:
    if isinstance(part, Paragraph):
        if part.strong:
            return [{"type": "section", "text": mrkdwn(f"*{escape_clipped(part.text, SECTION_TEXT_LIMIT - 2)}*")}]
        return [{"type": "section", "text": mrkdwn(escape_clipped(part.text, SECTION_TEXT_LIMIT))}]
    if isinstance(part, Mention):
        people = [u for u in dict.fromkeys([part.user, *part.others]) if u and USER_ID.match(u)][:40]
        who = "".join(f"<@{user}> " for user in people)
        return [{"type": "section", "text": mrkdwn(who + escape_clipped(part.text, SECTION_TEXT_LIMIT - len(who)))}]
    if isinstance(part, FieldList):
        blocks = []
        for start in range(0, len(part.fields), 10):
            chunk = part.fields[start : start + 10]
            blocks.append({"type": "section", "fields": [
                mrkdwn(f"*{escape_clipped(f.label, 200)}*\n{escape_clipped(f.value, 1700)}") for f in chunk
            ]})
        return blocks
    if isinstance(part, Table):
        return table_lines(part)
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
        return [{"type": "context", "elements": [mrkdwn(escape_clipped(part.text, SECTION_TEXT_LIMIT))]}]
    if isinstance(part, Divider):
        return [{"type": "divider"}]
    return [{"type": "section", "text": mrkdwn(f"[{type(part).__name__}]")}]


def render_card(card: Card, native: Table | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain(card.title)}] if card.title else []
    for index, part in enumerate(card.parts):
        if part is native:
            continue  # drawn as the message's table block
        blocks.extend(render_part(part, index))
    return blocks


def render_cards(cards: list[Card], native: Table | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for index, card in enumerate(cards):
        if index:
            blocks.append({"type": "divider"})
        blocks.extend(render_card(card, native))
    return blocks


class RenderedMessage(NamedTuple):
    text: str
    blocks: list[dict[str, Any]]
    attachments: list[dict[str, Any]]


def _native_table(message: Message) -> tuple[Card, Table] | None:
    """Slack draws one table block per message, under the message's blocks: the first table
    goes there, any others are written as lines."""
    for card in message.cards:
        for part in card.parts:
            if isinstance(part, Table) and part.rows:
                return card, part
    return None


def render_message(message: Message) -> RenderedMessage:
    """Notification text, blocks, and the attachment that carries the table block; the text
    is escaped too, since Slack parses it."""
    found = _native_table(message)
    native = found[1] if found else None
    blocks = render_cards(message.cards, native)
    if len(blocks) > MESSAGE_BLOCK_LIMIT:
        blocks = blocks[: MESSAGE_BLOCK_LIMIT - 1] + [{"type": "context", "elements": [mrkdwn("…")]}]
    attachments: list[dict[str, Any]] = []
    if found is not None:
        card, table = found
        table_blocks = table_block(table)
        if card.title and (len(message.cards) > 1 or card.parts[-1] is not table):
            table_blocks.insert(0, {"type": "context", "elements": [mrkdwn(f"*{escape_clipped(card.title, 200)}*")]})
        attachments.append({"fallback": escape_clipped(render_table(table), 3000), "blocks": table_blocks})
    return RenderedMessage(escape_clipped(message.text, 4000), blocks, attachments)


def render_home(home: Home) -> dict[str, Any]:
    return {"type": "home", "blocks": render_cards(home.cards)[:VIEW_BLOCK_LIMIT]}


def _element(field: FormField) -> dict[str, Any]:
    action = field.key
    if field.kind in ("text", "multiline"):
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": action,
                                   "multiline": field.kind == "multiline"}
        if field.max_length:
            element["max_length"] = field.max_length
        if field.initial:  # bot/ cuts a long pre-fill and says so; this only keeps Slack from refusing the view
            element["initial_value"] = field.initial[: field.max_length or 3000]
    elif field.kind == "number":
        element = {"type": "number_input", "action_id": action, "is_decimal_allowed": True}
        if field.min_value is not None:
            element["min_value"] = _number(field.min_value)
        if field.max_value is not None:
            element["max_value"] = _number(field.max_value)
        if field.initial not in (None, ""):
            element["initial_value"] = str(field.initial)
    elif field.kind == "select":
        options = [{"text": plain(o.label, 75), "value": option_value(o.value)} for o in field.options[:100]]
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
            element["initial_option"] = {"text": plain(field.options[0].label, 75),
                                     "value": option_value(field.options[0].value)}
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
        if field.initial and ":" not in field.initial:  # someone in another messenger only: Slack cannot show them
            element["initial_user"] = field.initial
    else:
        raise ValueError(f"unknown form field kind {field.kind!r}")
    if field.placeholder and field.kind not in ("file", "datetime"):
        element["placeholder"] = plain(field.placeholder)
    return element


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def option_value(value: str) -> str:
    if len(value) > 150:
        raise ValueError(f"an option value is limited to 150 characters: {value[:40]}…")
    return value


def render_form(form: Form) -> dict[str, Any]:
    metadata = json.dumps(form.state, separators=(",", ":"), ensure_ascii=False) if form.state else ""
    if len(metadata) > 3000:
        raise ValueError("private_metadata is limited to 3000 characters; keep state in the database")
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
        "callback_id": form.kind,
        "title": plain(form.title, 24),
        "submit": plain(form.submit, 24),
        "close": plain(form.close, 24),
        "private_metadata": metadata,
        "notify_on_close": form.notify_on_close,
        "blocks": blocks[:VIEW_BLOCK_LIMIT],
    }


def form_state(view: dict[str, Any]) -> dict[str, Any]:
    """The state a rendered form carried (its private_metadata); {} when it is missing or
    not what this bot wrote."""
    try:
        state = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


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
