"""Reading the spreadsheets people actually have: CSV (UTF-8, UTF-8 with BOM as Excel
writes it, or GB18030 as Chinese Excel exports it) and XLSX (first sheet).

Read with the csv module and openpyxl rather than pandas so that codes such as `007`
stay text and every row keeps the number a person sees in Excel.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.i18n import Gettext
from bot.core.texts import T, Text, UserError


@dataclass
class Row:
    number: int  # as Excel numbers it: the header is row 1
    values: dict[str, str]


@dataclass
class RowError:
    row: int
    message: Text


@dataclass
class ImportResult:
    """What an all-or-nothing import did: rows created, updated, unchanged or skipped as
    already imported, or the row errors that stopped it (and nothing was written)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(T("The file is neither UTF-8 nor GB18030 text."))


def read_table(path: Path, required: list[str], optional: list[str] | None = None) -> list[Row]:
    """Rows keyed by lower-case header; raises UserError for a missing file or header."""
    if not path.is_file():
        raise UserError(T("File not found: {path}", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        text = _decode(path.read_bytes())
        records = [list(r) for r in csv.reader(io.StringIO(text))]
    else:
        raise UserError(T("Unsupported file type {suffix}: use .csv or .xlsx.", suffix=suffix or "(none)"))
    if not records:
        raise UserError(T("The file is empty."))
    header = [_cell(h).lower() for h in records[0]]
    missing = [name for name in required if name not in header]
    if missing:
        raise UserError(
            T("Row 1: missing column(s) {missing}. Expected: {expected}.",
              missing=", ".join(missing), expected=",".join(required + (optional or [])))
        )
    rows = []
    for index, record in enumerate(records[1:], start=2):
        cells = [_cell(c) for c in record]
        if not any(cells):
            continue
        cells += [""] * (len(header) - len(cells))
        rows.append(Row(index, {name: cells[i] for i, name in enumerate(header) if name}))
    return rows


def _read_xlsx(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise UserError(
            T("The file is not a readable .xlsx workbook ({error}).", error=type(error).__name__)
        ) from error
    try:
        sheet = workbook.worksheets[0]
        return [[_percent_as_shown(cell) for cell in row] for row in sheet.iter_rows()]
    finally:
        workbook.close()


def _percent_as_shown(cell: object) -> object:
    """A cell formatted as a percentage holds 0.95 and shows 95%: take what people see."""
    value = getattr(cell, "value", None)
    number_format = str(getattr(cell, "number_format", "") or "")
    if isinstance(value, int | float) and not isinstance(value, bool) and "%" in number_format:
        return round(value * 100, 10)
    return value


def format_errors(errors: list[RowError], _: Gettext) -> list[str]:
    return [_("Row {row}: {message}").format(row=e.row, message=e.message.render(_)) for e in errors]
