"""Neutral views: what the bot says, not how a messenger draws it.

A card is a title and a list of parts; a form is a list of typed fields. Text in a view is
plain text: each adapter escapes it for its own markup, so user input can never become a
mention or a link. Views serialise to plain dicts for the outbox.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class Paragraph:
    text: str
    strong: bool = False
    kind: ClassVar[str] = "paragraph"


@dataclass
class Mention:
    """A paragraph that starts by addressing a person (and `others`) by messenger id."""

    user: str
    text: str
    others: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "mention"


@dataclass
class Field:
    label: str
    value: str


@dataclass
class FieldList:
    fields: list[Field]
    kind: ClassVar[str] = "fields"


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    kind: ClassVar[str] = "table"


@dataclass
class Button:
    label: str
    action: str
    value: str = ""
    style: str | None = None  # primary | danger
    url: str | None = None


@dataclass
class Actions:
    buttons: list[Button]
    kind: ClassVar[str] = "actions"


@dataclass
class Image:
    url: str
    alt: str
    title: str = ""
    kind: ClassVar[str] = "image"


@dataclass
class Context:
    text: str
    kind: ClassVar[str] = "context"


@dataclass
class Divider:
    kind: ClassVar[str] = "divider"


Part = Paragraph | Mention | FieldList | Table | Actions | Image | Context | Divider
PART_TYPES: dict[str, type] = {
    t.kind: t for t in (Paragraph, Mention, FieldList, Table, Actions, Image, Context, Divider)  # type: ignore[attr-defined]
}


@dataclass
class Card:
    title: str
    parts: list[Part] = field(default_factory=list)


@dataclass
class Message:
    """`text` is the notification and plain-text fallback; cards carry the content."""

    text: str
    cards: list[Card] = field(default_factory=list)


@dataclass
class Home:
    cards: list[Card]


@dataclass
class Option:
    value: str
    label: str
    group: str | None = None  # options with a group are shown under its heading


@dataclass
class FormField:
    key: str
    label: str
    kind: str = "text"  # text | multiline | number | select | date | datetime | file | user | customer
    required: bool = True
    hint: str = ""
    placeholder: str = ""
    initial: str | None = None
    options: list[Option] = field(default_factory=list)
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    folded: bool = False  # optional, and shown closed until opened where the screen is small (a phone page)


@dataclass
class Form:
    """A dialog. `kind` names the use case its submission goes to; `state` is what that use
    case needs back (small, JSON-serialisable), which each adapter round-trips in its own way."""

    kind: str
    title: str
    submit: str
    close: str
    fields: list[FormField]
    intro: str = ""
    state: dict[str, Any] = field(default_factory=dict)
    notify_on_close: bool = False  # the adapter reports a closed dialog (to keep a draft)


MY_LANGUAGE = "view.my_language"


def my_language_button(company_locale: str, kind: str, key: str) -> Button:
    """A channel card's "show it to me in my language", labelled in the other language for
    the reader who does not read the company's."""
    label = "🌐 English" if company_locale.startswith("zh") else "🌐 中文"
    return Button(label, MY_LANGUAGE, json.dumps({"kind": kind, "key": key}, ensure_ascii=False))


def fit_initial_values(form: Form, _: Callable[[str], str]) -> Form:
    """A pre-filled value longer than its field takes is cut to fit, and the field says so
    (a long `/complaint` text, an imported opinion), rather than the dialog failing to open."""
    for item in form.fields:
        if item.initial and item.max_length and len(item.initial) > item.max_length:
            item.initial = item.initial[: item.max_length]
            note = _("The text given was longer than this field takes and was cut to {n} characters.").format(
                n=item.max_length)
            item.hint = f"{item.hint} {note}".strip()
    return form


# --- serialisation for the outbox -------------------------------------------------------------


def part_to_dict(part: Part) -> dict[str, Any]:
    data = dataclasses.asdict(part)  # type: ignore[call-overload]
    data["kind"] = part.kind
    return data


def part_from_dict(data: dict[str, Any]) -> Part:
    data = dict(data)
    kind = data.pop("kind")
    if kind == "fields":
        return FieldList([Field(**f) for f in data["fields"]])
    if kind == "actions":
        return Actions([Button(**b) for b in data["buttons"]])
    return PART_TYPES[kind](**data)  # type: ignore[no-any-return]


def card_to_dict(card: Card) -> dict[str, Any]:
    return {"title": card.title, "parts": [part_to_dict(p) for p in card.parts]}


def card_from_dict(data: dict[str, Any]) -> Card:
    return Card(title=data["title"], parts=[part_from_dict(p) for p in data["parts"]])


def message_to_dict(message: Message) -> dict[str, Any]:
    return {"text": message.text, "cards": [card_to_dict(c) for c in message.cards]}


def message_from_dict(data: dict[str, Any]) -> Message:
    return Message(text=data["text"], cards=[card_from_dict(c) for c in data.get("cards", [])])


def home_to_dict(home: Home) -> dict[str, Any]:
    return {"cards": [card_to_dict(c) for c in home.cards]}


def home_from_dict(data: dict[str, Any]) -> Home:
    return Home(cards=[card_from_dict(c) for c in data["cards"]])


def form_to_dict(form: Form) -> dict[str, Any]:
    return dataclasses.asdict(form)


def form_from_dict(data: dict[str, Any]) -> Form:
    """A form as `form_to_dict` wrote it (a web page carries its form between requests)."""
    data = dict(data)
    fields = [FormField(**{**f, "options": [Option(**o) for o in f.get("options") or []]})
              for f in data.pop("fields")]
    return Form(**data, fields=fields)
