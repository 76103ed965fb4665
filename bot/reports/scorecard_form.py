"""The monthly 顾客满意度监测评价表 (004 §7.1) as the document lays it out, one sheet per
customer, with a summary sheet first: the score book's own scores, written as numbers.

A score is written cut to one decimal, as the bot shows it everywhere (79.96 is 79.9, never
80.0, so a score never shows in a grade band it is not in), so that what Excel sums is what
people read."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.defaults import load_defaults
from bot.core.i18n import Gettext, gettext_for, pick
from bot.people.customers import all_customers
from bot.reports import workbook as xl
from bot.scorecard.answers import CATEGORY_NAMES, grade_name
from bot.scorecard.book import ScoreBook
from bot.scorecard.engine import CATEGORIES, EVENT_CATEGORIES, MonthlyScore, RuleSet
from storage.models import Customer, Person


def tenths(value: float) -> float:
    """A score cut to one decimal, the way `score_text` shows it."""
    return math.floor(round(value * 10, 6)) / 10


@dataclass(frozen=True)
class Sheet:
    """One customer's month, for the form."""

    customer: Customer
    assessor: str
    score: MonthlyScore | None  # None: not evaluated (no deliveries and no input that month)


def scorecard_workbook(session: Session, month: str, locale: str, tz: ZoneInfo, now: dt.datetime,
                       customer_ids: list[int] | None = None) -> bytes:
    """The month's form for every active customer (or those asked for)."""
    _ = gettext_for(locale)
    book = ScoreBook(session, now, tz)
    rules = book.rules_for(month)
    codes = all_customers(session)
    if customer_ids is not None:
        codes = {cid: code for cid, code in codes.items() if cid in customer_ids}
    scores = book.monthly(codes, [month])
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(list(codes))))}
    owners = dict(session.execute(select(Person.id, Person.name)).all()) if codes else {}
    sheets = [Sheet(customers[cid], owners.get(customers[cid].owner_id or -1, ""), scores.get((cid, month)))
              for cid in codes]
    workbook = xl.new_workbook()
    taken: set[str] = set()
    _summary(xl.add_sheet(workbook, xl.sheet_name(_("Summary"), taken)), sheets, rules, month, locale, _)
    methods = {category: "\n".join(rule_lines(rules, category, locale, _)) for category in CATEGORIES}
    for sheet in sheets:
        _form(xl.add_sheet(workbook, xl.sheet_name(sheet.customer.code, taken)), sheet, rules, methods, month,
              locale, tz, _)
    return xl.to_bytes(workbook)


def _summary(ws: Worksheet, sheets: list[Sheet], rules: RuleSet, month: str, locale: str, _: Gettext) -> None:
    xl.text(ws, 1, 1, _("Customer satisfaction monitoring and evaluation form · summary · {month}").format(
        month=month), bold=True)
    titles = [_("Code"), _("Customer")] + [_(CATEGORY_NAMES[c]) for c in CATEGORIES] + [
        _("Total"), _("Grade"), _("Below target ({target:g})").format(target=rules.monthly_target), _("Note")]
    xl.header(ws, 2, titles)
    for row, sheet in enumerate(sheets, start=3):
        customer, score = sheet.customer, sheet.score
        xl.text(ws, row, 1, customer.code)
        xl.text(ws, row, 2, pick(locale, customer.name_zh, customer.name_en))
        if score is None:
            xl.text(ws, row, 10, _("not evaluated: no deliveries and no scorecard input this month"))
            continue
        for column, category in enumerate(CATEGORIES, start=3):
            xl.number(ws, row, column, tenths(getattr(score, category)))
        xl.number(ws, row, 7, tenths(score.total))
        xl.text(ws, row, 8, grade_name(rules, score.grade, locale))
        xl.text(ws, row, 9, _("yes") if score.total < rules.monthly_target else "")
        if score.provisional:
            xl.text(ws, row, 10, _("provisional: KPI figures still missing ({keys})").format(
                keys=", ".join(score.kpi_missing)))
    xl.widths(ws, [12, 28, 12, 12, 14, 12, 10, 10, 12, 40])


def rule_lines(rules: RuleSet, category: str, locale: str, _: Gettext) -> list[str]:
    """指标及监视评价方法 of one 项目: its deductions, numbered as the document numbers them."""
    if category in EVENT_CATEGORIES:
        order = {e["key"]: n for n, e in enumerate(load_defaults()["scorecard"]["events"])}  # the document's
        events = sorted((e for e in rules.events.values() if e.category == category),
                        key=lambda e: (order.get(e.event_type, len(order)), e.event_type))
        return [_("{n}. {name}: {points:g} points each").format(n=n, name=pick(locale, e.name_zh, e.name_en),
                                                               points=e.points)
                for n, e in enumerate(events, start=1)]
    if category == "kpi":
        return [_("The customer's performance achievement rate × {points:g} (the customer's KPIs: regulatory "
                  "compliance, key process capability, return rate, customer property loss, after-sales PPM, "
                  "response timeliness, as applicable).").format(points=rules.category_points["kpi"])]
    return [_("The customer's own scorecard percentage × {points:g}; full marks when the customer gives no "
              "score.").format(points=rules.category_points["customer_scorecard"])]


def _form(ws: Worksheet, sheet: Sheet, rules: RuleSet, methods: dict[str, str], month: str, locale: str,
          tz: ZoneInfo, _: Gettext) -> None:
    customer, score = sheet.customer, sheet.score
    year, number = month.split("-")
    xl.text(ws, 1, 1, _("Customer satisfaction monitoring and evaluation form"), bold=True)
    xl.text(ws, 2, 1, _("Customer full name"), bold=True, box=True)
    xl.text(ws, 2, 2, pick(locale, customer.name_zh, customer.name_en), box=True)
    xl.text(ws, 2, 3, _("Customer address"), bold=True, box=True)
    xl.text(ws, 2, 4, customer.address or "", box=True)
    xl.text(ws, 3, 1, _("Evaluation period"), bold=True, box=True)
    xl.text(ws, 3, 2, _("{year}-{month}").format(year=year, month=number), box=True)
    xl.text(ws, 3, 3, _("Customer code"), bold=True, box=True)
    xl.text(ws, 3, 4, customer.code, box=True)
    xl.header(ws, 5, [_("Item"), _("Points allotted"), _("Indicator and method of evaluation"), _("Score"),
                      _("Assessor")],
              freeze=False, filters=False)
    row = 6
    for category in CATEGORIES:
        xl.text(ws, row, 1, _(CATEGORY_NAMES[category]), bold=True, box=True, wrap=True)
        xl.number(ws, row, 2, rules.category_points[category], "0", box=True)
        xl.text(ws, row, 3, methods[category], wrap=True, box=True)
        if score is not None:
            xl.number(ws, row, 4, tenths(getattr(score, category)), box=True)
        else:
            xl.text(ws, row, 4, "—", box=True)
        xl.text(ws, row, 5, sheet.assessor, box=True)
        row += 1
    xl.text(ws, row, 1, _("Total"), bold=True, box=True)
    xl.number(ws, row, 2, sum(rules.category_points[c] for c in CATEGORIES), "0", box=True)
    if score is not None:
        grade = grade_name(rules, score.grade, locale)
        extra = _(" (provisional: KPI figures still missing)") if score.provisional else ""
        xl.text(ws, row, 3, _("Grade: {grade}").format(grade=grade) + extra, bold=True, box=True)
        xl.number(ws, row, 4, tenths(score.total), bold=True, box=True)
    else:
        xl.text(ws, row, 3, _("Not evaluated: no deliveries and no scorecard input this month."), box=True)
        xl.text(ws, row, 4, "—", box=True)
    xl.text(ws, row, 5, sheet.assessor, box=True)
    row += 2
    xl.text(ws, row, 1, _("Notes"), bold=True)
    notes = [_("1. In monthly monitoring, an item abnormal three months running, or a total below target "
               "({target:g}), is analysed by the responsible department, which takes improvement "
               "action.").format(target=rules.monthly_target),
             _("2. An annual score below target ({target:g}) is raised in management review with improvement "
               "measures.").format(target=rules.annual_target)]
    for note in notes:  # long lines run on over the empty cells beside them (no merged cells: 2,000 sheets)
        xl.text(ws, row, 2, note)
        row += 1
    row += 1
    xl.text(ws, row, 1, _("The events behind each deduction"), bold=True)
    row += 1
    xl.header(ws, row, [_("Date"), _("Item"), _("Event"), _("Count"), _("Points lost"), _("Note"), _("Complaint"),
                        _("Entered by"), _("Entered at")], freeze=False, filters=False)
    deductions = score.deductions if score is not None else []
    for deduction in deductions:
        row += 1
        event, kind = deduction.event, rules.events.get(deduction.event_type)
        xl.moment(ws, row, 1, event.event_date, tz, box=True)
        xl.text(ws, row, 2, _(CATEGORY_NAMES[deduction.category]), box=True)
        xl.text(ws, row, 3, pick(locale, kind.name_zh, kind.name_en) if kind else deduction.event_type, box=True,
                wrap=True)
        xl.number(ws, row, 4, deduction.count, "0", box=True)
        xl.number(ws, row, 5, deduction.points, box=True)
        xl.text(ws, row, 6, event.note or "", box=True, wrap=True)
        xl.text(ws, row, 7, event.complaint_number or "", box=True)
        xl.text(ws, row, 8, event.entered_by or "", box=True)
        xl.moment(ws, row, 9, event.entered_at, tz, box=True)
    if not deductions:
        row += 1
        xl.text(ws, row, 1, _("No deduction this month."))
    xl.widths(ws, [16, 10, 60, 10, 12, 24, 14, 12, 16])
