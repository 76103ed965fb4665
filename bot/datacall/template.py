"""The figures import as an Excel form a finance clerk fills in: one row per figure the
month's call asks for (each person's, for each customer they answer for), headings in both
languages, the value checked by Excel against the figure's range as it is typed, and a sheet
that says how to fill it. `csatbot import figures` reads it back as it is."""

from __future__ import annotations

import datetime as dt

from openpyxl.comments import Comment
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.i18n import gettext_for, pick
from bot.core.stored_settings import data_call_settings
from bot.datacall.obligations import call_dates, obligations
from bot.reports import workbook as xl
from storage.models import Customer, Metric

HEADINGS = (("metric", "数据项"), ("month", "月份"), ("customer", "客户"), ("value", "数值"))


def figures_template(session: Session, month: str, locale: str, today: dt.date, person_id: int | None = None) -> bytes:
    """Every person's rows, or with `person_id` only what that person is asked for."""
    _ = gettext_for(locale)
    metrics = {m.key: m for m in session.scalars(select(Metric).order_by(Metric.sort_order))}
    customers = {c.id: c for c in session.scalars(select(Customer))}
    dates = call_dates(WorkingCalendar.load(session), month, data_call_settings(session))
    duties = sorted((d for d in obligations(session, month, min(today, dates.due)).values()
                     if person_id in (None, d.person_id)), key=lambda d: d.name)
    book = xl.new_workbook()
    sheet = xl.add_sheet(book, xl.sheet_name(_("Figures {month}").format(month=month), set()))
    titles = [f"{en} / {zh}" for en, zh in HEADINGS] + [
        _("Figure name"), _("Unit"), _("Allowed range"), _("Customer name"), _("Who owes it")]
    xl.header(sheet, 1, titles)
    xl.widths(sheet, [26, 10, 12, 14, 30, 8, 16, 24, 14])
    checks: dict[tuple[str, str], DataValidation] = {}
    row = 2
    for duty in duties:
        for item in duty.items:
            metric = metrics.get(item.metric)
            if metric is None:
                continue
            customer = customers.get(item.customer_id) if item.customer_id is not None else None
            low, high = float(metric.min_value), float(metric.max_value)
            xl.text(sheet, row, 1, metric.key)
            xl.text(sheet, row, 2, month)
            xl.text(sheet, row, 3, customer.code if customer else "")
            xl.text(sheet, row, 5, pick(locale, metric.name_zh, metric.name_en))
            xl.text(sheet, row, 6, metric.unit)
            xl.text(sheet, row, 7, f"{low:g} – {high:g}")
            xl.text(sheet, row, 8, pick(locale, customer.name_zh, customer.name_en) if customer else _("company-wide"))
            xl.text(sheet, row, 9, duty.name)
            check = checks.get((f"{low:g}", f"{high:g}"))
            if check is None:
                check = DataValidation(type="decimal", operator="between", formula1=f"{low:g}", formula2=f"{high:g}",
                                       allow_blank=True, showErrorMessage=True, errorTitle=_("Not allowed"),
                                       error=_("A number from {low:g} to {high:g}.").format(low=low, high=high))
                checks[(f"{low:g}", f"{high:g}")] = check
                sheet.add_data_validation(check)
            check.add(f"D{row}")
            row += 1
    if row == 2:  # nobody is called for the month: one example row shows the shape
        example = next(iter(metrics.values()), None)
        if example is not None:
            xl.text(sheet, 2, 1, example.key)
            xl.text(sheet, 2, 2, month)
            xl.text(sheet, 2, 5, pick(locale, example.name_zh, example.name_en))
    sheet.cell(row=1, column=4).comment = Comment(_("Fill in this column only; leave a figure you do not have "
                                                    "empty."), "csatbot")
    guide = xl.add_sheet(book, xl.sheet_name(_("How to fill it in"), {sheet.title.lower()}))
    lines = [_("Fill in the value column (D) for each row; the other columns say what the row is."),
             _("Columns A–D are what csatbot reads; their headings may be in English or Chinese."),
             _("Excel refuses a value outside the figure's range as you type it."),
             _("A row left empty is left out; import it again once the figure is known."),
             _("Then send the file to csatbot in its direct messages, or run csatbot import figures FILE.xlsx (all "
               "rows or none: every problem is listed by row).")]
    for index, line in enumerate(lines, start=1):
        xl.text(guide, index, 1, line, wrap=True)
    xl.widths(guide, [100])
    return xl.to_bytes(book)
