"""The Excel round trip: each invitation's questionnaire as an .xlsx the owner sends the
customer (the layout locked, only the answer cells open, Excel checking each rating as it is
typed, the invitation's signed key and the items' keys hidden in it), and the filled file read
back. A file altered, half filled or for another survey gets an answer that names each row,
and changes nothing."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.styles import PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from bot.core.i18n import gettext_for, pick
from bot.core.texts import T, Text
from bot.reports import workbook as xl
from bot.surveys.campaigns import DIMENSION_NAMES
from bot.surveys.invitations import Opened, invitation_by_token, token_for
from bot.surveys.questionnaire import (
    COMMENT_LENGTH,
    RATINGS,
    RESPONDENT_LENGTH,
    Checked,
    Rating,
    respondent_of,
)
from storage.models import SurveyCampaign, SurveyInvitation

KEY_SHEET = "csatbot"
FIRST_ITEM_ROW = 7
RATING, IMPORTANCE, COMPETITOR, KEY = 4, 5, 6, 8  # columns D, E, F and the hidden H
RESPONDENT_CELL = "B4"
OPEN = Protection(locked=False)
GREY = PatternFill("solid", fgColor="EEEEEE")
MAX_BYTES = 5 * 1024 * 1024


def file_name(campaign: SurveyCampaign, invitation: SurveyInvitation, locale: str) -> str:
    who = respondent_of(invitation) or ""
    name = f"{campaign.key}-{invitation.customer.code}" + (f"-{who}" if who else "") + ".xlsx"
    return "".join(c if c not in '\\/:*?"<>|' else "_" for c in name)


def questionnaire_workbook(session: Session, campaign: SurveyCampaign, invitation: SurveyInvitation,
                           locale: str) -> bytes:
    _ = gettext_for(locale)
    customer = invitation.customer
    book = xl.new_workbook()
    sheet = xl.add_sheet(book, xl.sheet_name(_("Questionnaire"), set()))
    xl.text(sheet, 1, 1, pick(locale, campaign.title_zh, campaign.title_en), bold=True)
    xl.text(sheet, 2, 1, _("Customer"), bold=True)
    xl.text(sheet, 2, 2, f"{customer.code} {pick(locale, customer.name_zh, customer.name_en)}")
    xl.text(sheet, 3, 1, _("Please rate each point from 1 (very unsatisfied) to 5 (very satisfied) in column D; "
                           "where column E is open, how much it matters to you; column F, if you will, your main "
                           "other supplier. Save the file and send it back."), wrap=True)
    sheet.merge_cells("A3:F3")
    sheet.row_dimensions[3].height = 48
    xl.text(sheet, 4, 1, _("Answered by"), bold=True)
    respondent = xl.text(sheet, 4, 2, respondent_of(invitation) or "")
    if invitation.contact is None:
        respondent.protection = OPEN
    xl.header(sheet, FIRST_ITEM_ROW - 1, ["#", _("Dimension"), _("Item"), _("Rating 1–5"), _("Importance 1–5"),
                                          _("Other supplier 1–5")], freeze=False, filters=False)
    check = DataValidation(type="whole", operator="between", formula1="1", formula2="5", allow_blank=True,
                           showErrorMessage=True, errorTitle=_("Not allowed"),
                           error=_("A whole number from 1 to 5."))
    sheet.add_data_validation(check)
    row = FIRST_ITEM_ROW
    for question in campaign.questions:
        xl.number(sheet, row, 1, question.position, "0", box=True)
        xl.text(sheet, row, 2, _(DIMENSION_NAMES.get(question.dimension, question.dimension)), box=True)
        xl.text(sheet, row, 3, pick(locale, question.text_zh, question.text_en), wrap=True, box=True)
        for column in (RATING, IMPORTANCE, COMPETITOR):
            cell = sheet.cell(row=row, column=column)
            if column == IMPORTANCE and not question.asks_importance:
                cell.fill = GREY
                continue
            cell.protection = OPEN
            check.add(cell.coordinate)
        xl.text(sheet, row, KEY, question.key or f"q{question.position}")
        row += 1
    xl.text(sheet, row + 1, 1, _("Comments"), bold=True)
    comment = sheet.cell(row=row + 2, column=1)
    comment.protection = OPEN
    sheet.merge_cells(start_row=row + 2, start_column=1, end_row=row + 2, end_column=6)
    sheet.row_dimensions[row + 2].height = 80
    xl.widths(sheet, [5, 14, 52, 11, 13, 15])
    sheet.column_dimensions["H"].hidden = True
    sheet.protection.sheet = True  # the layout stays as made: only the answer cells take typing
    keys = book.create_sheet(KEY_SHEET)
    keys["A1"] = token_for(session, invitation, campaign)
    keys["A2"] = str(row + 2)  # the comment's row
    keys.sheet_state = "veryHidden"
    return xl.to_bytes(book)


@dataclass
class ReadBack:
    opened: Opened | None = None
    checked: Checked | None = None
    errors: list[Text] = field(default_factory=list)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def looks_like_questionnaire(content: bytes) -> bool:
    """Whether a file is one of these questionnaires (it has the hidden key sheet)."""
    if not content.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return KEY_SHEET.encode() in archive.read("xl/workbook.xml")
    except (zipfile.BadZipFile, KeyError, OSError):
        return False


def read_questionnaire(session: Session, content: bytes) -> ReadBack:
    """The answers of a filled questionnaire, or every reason it cannot be taken."""
    if len(content) > MAX_BYTES:
        return ReadBack(errors=[T("The file is larger than {mb} MB.", mb=MAX_BYTES // 1024 // 1024)])
    try:
        book = load_workbook(io.BytesIO(content), data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        return ReadBack(errors=[T("This is not an Excel (.xlsx) file csatbot can read.")])
    if KEY_SHEET not in book.sheetnames or len(book.sheetnames) < 2:
        return ReadBack(errors=[T("This is not a questionnaire csatbot made (its hidden key is missing). Send "
                                  "back the file the bot made, filled in.")])
    keys, sheet = book[KEY_SHEET], book.worksheets[0]
    opened = invitation_by_token(session, _cell(keys["A1"].value))
    if opened is None:
        return ReadBack(errors=[T("The questionnaire's key is not one of ours: the file was altered, or it comes "
                                  "from another csatbot. Send back the file the bot made.")])
    campaign, invitation = opened.campaign, opened.invitation
    if campaign.status == "closed":
        return ReadBack(opened, errors=[T("Survey {id} is closed: its results are final.", id=campaign.id)])
    checked = Checked(respondent=respondent_of(invitation))
    errors: list[Text] = []
    if invitation.contact is None:
        checked.respondent = _cell(sheet[RESPONDENT_CELL].value)
        if not checked.respondent:
            errors.append(T("Row 4: say who answered (cell B4)."))
        elif len(checked.respondent) > RESPONDENT_LENGTH:
            errors.append(T("Row 4: the name is longer than {n} characters.", n=RESPONDENT_LENGTH))
    unrated: list[str] = []
    for offset, question in enumerate(campaign.questions):
        row = FIRST_ITEM_ROW + offset
        key = question.key or f"q{question.position}"
        if _cell(sheet.cell(row=row, column=KEY).value) != key:
            errors.append(T("Row {row}: this is not the item the questionnaire was sent with (rows were moved, "
                            "added or removed). Send back the file as the bot made it.", row=row))
            continue
        given: dict[int, Any] = {}
        if not _cell(sheet.cell(row=row, column=RATING).value):
            unrated.append(str(row))
        for column, name in ((RATING, T("rating")), (IMPORTANCE, T("importance")), (COMPETITOR, T("other supplier"))):
            raw = _cell(sheet.cell(row=row, column=column).value)
            if not raw:
                given[column] = None
                continue
            if raw not in RATINGS or (column == IMPORTANCE and not question.asks_importance):
                errors.append(T("Row {row}: the {what} {value!r} is not a whole number from 1 to 5.", row=row,
                                what=name, value=raw))
                given[column] = None
                continue
            given[column] = Decimal(raw)
        checked.ratings.append(Rating(question, given[RATING], given[IMPORTANCE], given[COMPETITOR]))
    if unrated:
        errors.append(T("Not every point is rated: row(s) {rows} have no rating in column D.", rows=", ".join(unrated)))
    try:
        comment_row = int(_cell(keys["A2"].value))
    except ValueError:
        comment_row = 0
    checked.comment = _cell(sheet.cell(row=comment_row, column=1).value) if comment_row > 0 else ""
    if len(checked.comment) > COMMENT_LENGTH:
        errors.append(T("The comment is longer than {n} characters.", n=COMMENT_LENGTH))
    return ReadBack(opened, checked, errors)
