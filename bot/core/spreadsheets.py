"""Reading the spreadsheets people actually have: CSV (UTF-8, UTF-8 with BOM as Excel
writes it, GB18030 as Chinese Excel exports it, or Big5) and XLSX (first sheet).

Read with the csv module and openpyxl rather than pandas so that codes such as `007`
stay text and every row keeps the number a person sees in Excel. Files are read as a
stream, one row at a time, so memory stays bounded whatever the file's size (up to
MAX_FILE_BYTES); at most MAX_ROW_ERRORS errors are kept, the rest are counted.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.i18n import Gettext
from bot.core.inputs import CONTROL
from bot.core.texts import T, Text, UserError, join_texts

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROW_ERRORS = 100
SAMPLE_BYTES = 1024 * 1024  # what the encoding is judged on
# punctuation that Chinese text in either encoding is full of
COMMON_PUNCTUATION = set("，。、；：？！“”‘’（）《》【】—…·％＃＠＆／～　")
TRIED_ENCODINGS = "UTF-8, GB18030, Big5"


@dataclass
class Row:
    number: int  # as Excel numbers it: the header is row 1
    values: dict[str, str]


@dataclass
class RowError:
    row: int
    message: Text


class RowErrors(list[RowError]):
    """The first MAX_ROW_ERRORS errors; the rest are only counted (`more`), so that a file
    of bad rows neither fills the memory nor prints millions of lines."""

    def __init__(self, errors: Iterable[RowError] = ()) -> None:
        super().__init__()
        self.more = 0
        self.extend(errors)

    def append(self, error: RowError) -> None:
        if len(self) < MAX_ROW_ERRORS:
            super().append(error)
        else:
            self.more += 1

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.append(error)


@dataclass
class ImportResult:
    """What an all-or-nothing import did: rows created, updated, unchanged or skipped as
    already imported, or the row errors that stopped it (and nothing was written)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=RowErrors)
    periods: set[str] = field(default_factory=set)  # the months written to, where an import has months

    @property
    def ok(self) -> bool:
        return not self.errors


ALLOWED_SHOWN = 12
# column headings in Chinese (as the company's own Excel forms have them) for each English one
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "customer": ("客户", "客户代码", "顾客", "顾客代码", "客户名称"),
    "code": ("客户代码", "代码", "编码"),
    "date": ("日期", "发生日期"),
    "type": ("类型", "事件类型", "事件"),
    "count": ("次数", "数量"),
    "note": ("备注", "说明"),
    "metric": ("数据项", "指标", "数据", "指标代码"),
    "month": ("月份", "月度", "期间"),
    "value": ("数值", "值", "数据值"),
    "kind": ("类别", "种类"),
    "name": ("姓名", "名称"),
    "name_zh": ("中文名称", "中文名"),
    "name_en": ("英文名称", "英文名"),
    "roles": ("角色", "岗位"),
    "department": ("部门",),
    "locale": ("语言",),
    "email": ("邮箱", "电子邮件"),
    "segment": ("细分市场", "客户类别"),
    "address": ("地址", "顾客地址", "客户地址"),
    "phone": ("电话", "联系电话", "手机"),
    "role": ("职务", "岗位", "角色"),
    "language": ("语言",),
    "active": ("在用", "有效"),
    "owner_slack_user_id": ("负责人",),
    "number": ("编号", "投诉编号"),
    "received_at": ("接收时间", "收到时间", "投诉时间"),
    "severity": ("严重度", "严重程度"),
    "symptom": ("症状", "问题描述", "不良现象"),
    "product_model": ("产品型号", "型号"),
    "quantity": ("数量", "不良数量"),
    "batch": ("批次", "批号"),
    "status": ("状态",),
    "product": ("产品",),
    "reason": ("原因",),
    "due": ("截止", "截止日期"),
    "target": ("目标", "目标值"),
    "direction": ("方向",),
    "kpi": ("KPI", "kpi代码"),
}


def cell_error(row: Row, column: str, message: Text, allowed: Sequence[str] = (),
               value: str | None = None) -> RowError:
    """An import error as a clerk can act on it: the row, the column, the value, what is
    wrong, what is allowed, and for a near miss the nearest allowed value."""
    value = row.values.get(column, "") if value is None else value
    more: list[Text] = []
    if allowed:
        shown = ", ".join(allowed[:ALLOWED_SHOWN]) + (" …" if len(allowed) > ALLOWED_SHOWN else "")
        more.append(T("Allowed: {allowed}.", allowed=shown))
        nearest = nearest_value(value, allowed)
        if nearest is not None:
            more.append(T("Did you mean {nearest!r}?", nearest=nearest))
    first = (T("Column {column}, value {value!r}: {message}", column=column, value=value, message=message) if value
             else T("Column {column} is empty: {message}", column=column, message=message))
    return RowError(row.number, join_texts([first, *more], " "))  # a sentence each


def nearest_value(value: str, allowed: Sequence[str]) -> str | None:
    """The allowed value a typo most likely meant (case and width of characters aside)."""
    if not value:
        return None
    folded = {unicodedata.normalize("NFKC", a).lower(): a for a in allowed}
    key = unicodedata.normalize("NFKC", value).lower()
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    if not close:
        close = [a for a in folded if key in a or a in key][:1]
    return folded[close[0]] if close else None


DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


def parse_day(raw: str) -> tuple[dt.date | None, Text | None]:
    """A day as a spreadsheet holds it (2026-10-08, 2026/10/8, or Excel's date), or what is
    wrong with it: 2027-02-30 is a day the calendar does not have, not a format error."""
    text = raw.strip()[:10] if raw.strip()[:10] and raw.strip()[10:11] in ("", " ", "T") else raw.strip()
    match = DAY.match(text)
    if not match:
        return None, T("not a date: write it as YYYY-MM-DD, e.g. 2026-10-08.")
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))), None
    except ValueError:
        return None, T("there is no such day in the calendar.")


def too_long(row: Row, limits: dict[str, int | None]) -> list[RowError]:
    """Cells longer than their column can hold (the same on SQLite and PostgreSQL)."""
    return [RowError(row.number, T("Column {column}: {message}", column=name,
                                   message=T("longer than {n} characters.", n=limit)))
            for name, limit in limits.items() if limit is not None and len(row.values.get(name, "")) > limit]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return CONTROL.sub("", str(value)).strip()  # PostgreSQL refuses NUL; SQLite must refuse what it does


def _chinese_share(text: str, encoding: str) -> float:
    """How much of the non-ASCII text is common Chinese in `encoding` (GB2312 hanzi for
    GB18030, Big5's frequent characters for Big5): a file in another encoding decodes to
    rare characters, or not at all."""
    others = [c for c in text if ord(c) > 127]
    if not others:
        return 1.0
    good = 0
    for char in others:
        if char in COMMON_PUNCTUATION:
            good += 1
            continue
        try:
            code = char.encode("gb2312" if encoding == "gb18030" else "big5")
        except UnicodeEncodeError:
            continue
        lead = code[0]
        good += len(code) == 2 and (0xB0 <= lead <= 0xF7 if encoding == "gb18030" else 0xA4 <= lead <= 0xC6)
    return good / len(others)


def _strict(sample: bytes, encoding: str) -> str | None:
    """The sample decoded, None if it does not decode (a character cut at the sample's end is fine)."""
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def detect_encoding(sample: bytes) -> str:
    """UTF-8 when the bytes are UTF-8; else GB18030 or Big5, whichever reads as common
    Chinese; else refused, with what was tried and what the file looks like (as
    charset-normalizer judges it), instead of importing garbled text."""
    if _strict(sample, "utf-8-sig") is not None:
        return "utf-8-sig"
    scores = {}
    for encoding in ("gb18030", "big5"):
        text = _strict(sample, encoding)
        if text is not None:
            scores[encoding] = _chinese_share(text, encoding)
    if scores:
        best = max(scores, key=lambda e: (scores[e], e == "gb18030"))  # a tie goes to the mainland's encoding
        if scores[best] >= 0.5:
            return best
    from charset_normalizer import from_bytes

    guess = from_bytes(sample[:65536]).best()
    looks = guess.encoding if guess is not None else "binary"
    raise UserError(T("The file is not text in {tried} (it looks like {looks}). Save it from Excel as “CSV UTF-8” "
                      "and import it again.", tried=TRIED_ENCODINGS, looks=looks))


def read_table(path: Path, required: list[str], optional: list[str] | None = None) -> Iterator[Row]:
    """Rows keyed by lower-case header, one at a time; raises UserError for a missing,
    oversized or unreadable file or header (before the first row, so nothing is half read)."""
    if path.is_dir():
        raise UserError(T("{path} is a folder; give the file inside it.", path=str(path)))
    if not path.is_file():
        raise UserError(T("File not found: {path}", path=str(path)))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError(T("The file is {size} MB; imports take files up to {limit} MB. Split it by year.",
                          size=round(size / 1024 / 1024, 1), limit=MAX_FILE_BYTES // 1024 // 1024))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        records = _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        records = _read_csv(path)
    else:
        raise UserError(T("Unsupported file type {suffix}: use .csv or .xlsx.", suffix=suffix or "(none)"))
    first = next(records, None)
    if first is None:
        raise UserError(T("The file is empty."))
    expected = required + (optional or [])
    header = _headings([_cell(h) for h in first], expected)
    missing = [name for name in required if name not in header]
    if missing:
        records.close()  # the workbook or file is closed now, not when collected
        raise UserError(
            T("Row 1: missing column(s) {missing}. Expected: {expected} (or their Chinese names, e.g. {example}).",
              missing=", ".join(missing), expected=",".join(expected),
              example=",".join(HEADER_ALIASES.get(c, (c,))[0] for c in required))
        )
    return _rows(records, header)


def _headings(cells: list[str], expected: list[str]) -> list[str]:
    """Each column's English name, whether its heading gives it or its Chinese name
    (`客户代码` is `customer` in an events file and `code` in the customers file); a heading
    csatbot's forms write as `metric / 数据项` too. The first column to claim a name has it."""
    names = [c.strip().lower() for c in cells]
    taken: set[str] = set()
    result = list(names)
    for exact in (True, False):
        for index, name in enumerate(names):
            if result[index] in taken and result[index] != name:
                continue
            for part in [name, *re.split(r"\s*[/\n]\s*", name)]:
                column = part if part in expected else None if exact else next(
                    (c for c in expected if part in HEADER_ALIASES.get(c, ())), None)
                if column is not None and column not in taken:
                    result[index] = column
                    taken.add(column)
                    break
    return result


def _rows(records: Iterator[list[object]], header: list[str]) -> Iterator[Row]:
    for index, record in enumerate(records, start=2):
        cells = [_cell(c) for c in record]
        if not any(cells):
            continue
        cells += [""] * (len(header) - len(cells))
        yield Row(index, {name: cells[i] for i, name in enumerate(header) if name})


def _read_csv(path: Path) -> Iterator[list[object]]:
    with path.open("rb") as raw:
        encoding = detect_encoding(raw.read(SAMPLE_BYTES))
    return _csv_records(path, encoding)


def _csv_records(path: Path, encoding: str) -> Iterator[list[object]]:
    """The records, each line decoded strictly as the file is read (a new line byte is never
    part of a character in these encodings): a bad byte past the sample, or a cell over the
    csv module's limit (128 KB), stops the import at its row."""
    with path.open("rb") as raw:
        reader = csv.reader(_decoded_lines(raw, encoding))
        row = 0  # as Excel numbers them: a cell with line breaks is still one row
        while True:
            row += 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise UserError(T("Row {row}: the file is not valid {encoding} text from here on.",
                                  row=row, encoding=encoding.replace("-sig", "").upper())) from None
            except csv.Error as error:
                if "field larger" in str(error):
                    raise UserError(T("Row {row}: a cell is longer than {kb} KB.", row=row,
                                      kb=csv.field_size_limit() // 1024)) from None
                raise UserError(T("Row {row}: the file is not valid CSV ({error}).", row=row,
                                  error=str(error))) from None
            yield list(record)


def _decoded_lines(raw: Iterable[bytes], encoding: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    for line in raw:
        yield decoder.decode(line)
    decoder.decode(b"", final=True)


def _read_xlsx(path: Path) -> Iterator[list[object]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise UserError(
            T("The file is not a readable .xlsx workbook ({error}).", error=type(error).__name__)
        ) from error
    return _xlsx_records(workbook, sheet)


def _xlsx_records(workbook: object, sheet: object) -> Iterator[list[object]]:
    try:
        for row in sheet.iter_rows():  # type: ignore[attr-defined]
            yield [_percent_as_shown(cell) for cell in row]
    except Exception as error:  # a damaged part of the workbook, found while reading it
        raise UserError(
            T("The file is not a readable .xlsx workbook ({error}).", error=type(error).__name__)
        ) from error
    finally:
        workbook.close()  # type: ignore[attr-defined]


def _percent_as_shown(cell: object) -> object:
    """A cell formatted as a percentage holds 0.95 and shows 95%: take what people see."""
    value = getattr(cell, "value", None)
    number_format = str(getattr(cell, "number_format", "") or "")
    if isinstance(value, int | float) and not isinstance(value, bool) and "%" in number_format:
        return round(value * 100, 10)
    return value


def format_errors(errors: list[RowError], _: Gettext) -> list[str]:
    lines = [_("Row {row}: {message}").format(row=e.row, message=e.message.render(_)) for e in errors]
    more = getattr(errors, "more", 0)
    if more:
        lines.append(_("… and {n} more errors (the first {shown} are shown).").format(n=more, shown=len(errors)))
    return lines
