"""A message to a person, kept untranslated until we know who reads it."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from bot.core.i18n import Gettext, gettext_for
from bot.core.views import Card, Message, Paragraph


@dataclass(frozen=True)
class Text:
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, _: Gettext) -> str:
        params = {k: v.render(_) if isinstance(v, Text) else v for k, v in self.params.items()}
        return _(self.template).format(**params)


def T(template: str, **params: Any) -> Text:  # noqa: N802 - extraction keyword
    return Text(template, params)


def score_text(value: float) -> str:
    """A score as people read it, to one decimal and cut, never rounded up: 79.96 shows as
    79.9, so a score is never shown in a grade band it is not in (band edges are whole)."""
    tenths = math.floor(round(value * 10, 6))
    return f"{tenths / 10:.1f}"


def join_texts(parts: list[Text]) -> Text:
    """Several texts as one list, with the reader's separator (；in Chinese)."""
    template = "{separator}".join(f"{{part{i}}}" for i in range(len(parts)))
    return Text(template, {"separator": T("; "), **{f"part{i}": part for i, part in enumerate(parts)}})


class UserError(Exception):
    """Bad input or a refused request, explained in the reader's language."""

    def __init__(self, text: Text, message: Message | None = None) -> None:
        super().__init__(text.template.format(**text.params))
        self.text = text
        self.message = message  # a whole answer to show instead of the text (a refusal card)


def display_width(text: str) -> int:
    """Columns a string takes in a monospace font: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def render_error(error: UserError, locale: str) -> Message:
    if error.message is not None:
        return error.message
    _ = gettext_for(locale)
    text = error.text.render(_)
    return Message(text=text, cards=[Card(title=_("csatbot"), parts=[Paragraph(text)])])
