"""What a person (or a forger) types, made safe to store: the same rules on SQLite and on
PostgreSQL, checked in the application rather than left to the database to refuse."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from bot.core.texts import T, Text
from bot.core.views import Form

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # NUL and kin; tabs and new lines stay
FULL_WIDTH_DIGITS = {0xFF10 + i: ord("0") + i for i in range(10)}
MAX_PIECES = 1_000_000_000  # within a 32-bit integer column
MAX_AMOUNT = Decimal("1e15")  # within Numeric(20, 2)
MAX_ROW_ID = 2**31 - 1  # an Integer primary key on PostgreSQL


def clean_text(text: str) -> str:
    """Text without control characters (PostgreSQL refuses NUL, in a query as in a row)."""
    return CONTROL.sub("", text)


def clean_values(values: dict[str, Any]) -> dict[str, Any]:
    """What a request carries (a dialog's values, a button's action, a form's state), its
    text without control characters, however deeply nested."""
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {key: clean(v) for key, v in value.items()}
        return value
    return {key: clean(value) for key, value in values.items()}


def row_id(raw: str) -> int | None:
    """A record's id as a button carries it: ASCII digits within what the column holds."""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ROW_ID else None


def column_length(column: InstrumentedAttribute[Any]) -> int | None:
    """The declared length of a String column (None for unbounded text)."""
    return getattr(column.property.columns[0].type, "length", None)


def whole_pieces(raw: str) -> int | None:
    """A positive whole number of pieces, in ASCII or full-width digits (`²` and `①` are
    digits to str.isdigit but not numbers), within what the ledger can hold."""
    raw = raw.strip().translate(FULL_WIDTH_DIGITS)
    if not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value <= MAX_PIECES else None


def unlisted_choices(form: Form, values: dict[str, Any]) -> dict[str, Text]:
    """The fields given a value their list does not offer (a choice, a person), by key: a
    messenger's menus send only what they list, a web page whatever it is sent."""
    return {item.key: T("Choose one of the options offered.") for item in form.fields
            if item.kind in ("select", "user") and item.options and values.get(item.key) not in (None, "")
            and str(values[item.key]) not in {option.value for option in item.options}}
