"""Writing the procedure's Excel forms with openpyxl: text that stays text (a symptom that
begins with `=` never becomes a formula in Excel or WPS), numbers that stay numbers (shown
with one decimal, summable), a header people can filter, and a sheet name Excel accepts."""

from __future__ import annotations

import datetime as dt
import io
import re
from copy import copy
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

ONE_DECIMAL = "0.0"
WHEN = "yyyy-mm-dd hh:mm"
DAY = "yyyy-mm-dd"
FORMULA_LIKE = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def new_workbook() -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    return workbook


def text(sheet: Worksheet, row: int, column: int, value: object, *, bold: bool = False, wrap: bool = False,
         box: bool = False, fill: bool = False) -> Cell:
    """A cell that holds text as text: written as a string, never parsed as a formula, and
    marked as typed text where a spreadsheet would otherwise read it as one."""
    cell = sheet.cell(row=row, column=column)
    content = "" if value is None else str(value)
    cell.value = content
    cell.data_type = "s"
    _style(cell, bold, wrap, box, fill)
    if content.startswith(FORMULA_LIKE):
        cell.quotePrefix = True
    return cell


def number(sheet: Worksheet, row: int, column: int, value: float | int | None, fmt: str = ONE_DECIMAL, *,
           bold: bool = False, box: bool = False) -> Cell:
    cell = sheet.cell(row=row, column=column, value=None if value is None else float(value))
    cell.number_format = fmt
    _style(cell, bold, False, box)
    return cell


def moment(sheet: Worksheet, row: int, column: int, value: dt.datetime | dt.date | None, tz: ZoneInfo, *,
           box: bool = False) -> Cell:
    """A time in the company's time zone (Excel has none), or a day."""
    if isinstance(value, dt.datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        cell = sheet.cell(row=row, column=column, value=local)
        cell.number_format = WHEN
    else:
        cell = sheet.cell(row=row, column=column, value=value)
        cell.number_format = DAY
    _style(cell, False, False, box)
    return cell


def _style(cell: Cell, bold: bool, wrap: bool, box: bool, fill: bool = False) -> None:
    """The cell's look, made once per workbook and copied after that: openpyxl hashes every
    style object it is given, which costs more than all else when a form has 2,000 sheets."""
    if not (bold or wrap or box or fill):
        return
    made: dict[tuple[Any, ...], Any] = cell.parent.parent.__dict__.setdefault("_csatbot_styles", {})
    key = (bold, wrap, box, fill, cell.number_format)
    known = made.get(key)
    if known is not None:
        cell._style = copy(known)
        return
    if bold:
        cell.font = Font(bold=True)
    if wrap:
        cell.alignment = WRAP
    if box:
        cell.border = BOX
    if fill:
        cell.fill = HEADER_FILL
    made[key] = copy(cell._style)


def header(sheet: Worksheet, row: int, titles: list[str], *, freeze: bool = True, filters: bool = True) -> None:
    """A bold, shaded header row; frozen, with filters on its columns."""
    for column, title in enumerate(titles, start=1):
        text(sheet, row, column, title, bold=True, wrap=True, box=True, fill=True)
    if freeze:
        sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    if filters:
        sheet.auto_filter.ref = f"A{row}:{get_column_letter(len(titles))}{row}"


def widths(sheet: Worksheet, columns: list[float]) -> None:
    for index, width in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


class _NamedSheet(Worksheet):
    """A worksheet whose name `sheet_name` has made valid and unique already: openpyxl checks
    each new name against every sheet's, 4 million comparisons in a form of 2,000 customers."""

    _name = "Sheet"

    @property  # type: ignore[override]
    def title(self) -> str:
        return self._name

    @title.setter
    def title(self, value: str) -> None:
        self._name = value


def add_sheet(workbook: Workbook, name: str) -> Worksheet:
    """A new last sheet named `name` (from `sheet_name`)."""
    sheet = _NamedSheet(parent=workbook, title=name)
    workbook._add_sheet(sheet)
    return sheet


def sheet_name(wanted: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique whatever the case."""
    base = SHEET_NAME_FORBIDDEN.sub("_", wanted).strip("'") or "Sheet"
    name, n = base[:31], 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def to_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

