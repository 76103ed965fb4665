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


def join_texts(parts: list[Text], separator: Text | str | None = None) -> Text:
    """Several texts as one list, with the reader's separator (；in Chinese), or `separator`."""
    template = "{separator}".join(f"{{part{i}}}" for i in range(len(parts)))
    return Text(template, {"separator": T("; ") if separator is None else separator,
                           **{f"part{i}": part for i, part in enumerate(parts)}})


class UserError(Exception):
    """Bad input or a refused request, explained in the reader's language."""

    def __init__(self, text: Text, message: Message | None = None) -> None:
        super().__init__(text.template.format(**text.params))
        self.text = text
        self.message = message  # a whole answer to show instead of the text (a refusal card)


def display_width(text: str) -> int:
    """Columns a string takes in a monospace font: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def short_label(text: str, width: int = 26) -> str:
    """A label cut to `width` columns (a Chinese character takes two) with a visible "…": the
    table or the form beside the chart has the whole name."""
    used = 0
    for index, char in enumerate(text):
        used += display_width(char)
        if used > width:
            return text[:index].rstrip() + "…"
    return text


def name_list(names: list[str], width: int = 60, separator: str = ", ") -> str:
    """Whole names joined up to `width` columns, then `… +N` for the names left out: never
    a name cut in half without a mark."""
    shown: list[str] = []
    for index, name in enumerate(names):
        line = separator.join([*shown, name])
        if shown and display_width(line) > width:
            return separator.join(shown) + f" … +{len(names) - index}"
        shown.append(name)
    return separator.join(shown)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def render_error(error: UserError, locale: str) -> Message:
    if error.message is not None:
        return error.message
    _ = gettext_for(locale)
    text = error.text.render(_)
    return Message(text=text, cards=[Card(title=_("csatbot"), parts=[Paragraph(text)])])
