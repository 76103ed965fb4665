"""The monthly brief (002 第十四条): N working days after a month's figures were due, the
quality channel gets the month's indicators and their change, the customers below target
with the points they lost, complaints with their deadlines kept, the figures still missing
and the corrective actions; the heat map of the overview and the month's Excel forms in its
thread. Posted once through the outbox (its key is the month), and again only when asked."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.complaints.terms import MILESTONE_NAMES
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.i18n import gettext_for, pick
from bot.core.periods import month_end, month_start, months_of_year
from bot.core.stored_settings import data_call_settings, setting
from bot.core.texts import score_text
from bot.core.views import Card, Context, Field, FieldList, Message, Paragraph
from bot.datacall.obligations import call_dates, last_due_month
from bot.people.customers import all_customers
from bot.reports.indicators import ReportPeriod, indicators, report_period
from bot.reports.ledgers import complaint_ledger_workbook
from bot.reports.scorecard_form import scorecard_workbook
from bot.scorecard import stored
from bot.scorecard.answers import CATEGORY_NAMES, fmt, grade_name, overview_answer, signed
from bot.scorecard.book import ScoreBook
from bot.scorecard.engine import CATEGORIES
from storage.models import Customer

log = logging.getLogger(__name__)


def brief_key(month: str) -> str:
    return f"brief:{month}"


def brief_day(session: Session, month: str) -> dt.date:
    """The working day the month's brief is due: its figures' due day plus N working days."""
    calendar = WorkingCalendar.load(session)
    due = call_dates(calendar, month, data_call_settings(session)).due
    return calendar.nth_working_day_after(due, int(setting(session, "reports")["brief_after_working_days"]))


def post_due_reports(session: Session, now: dt.datetime, tz: ZoneInfo, locale: str, quality_channel: str,
                     commercial_channel: str = "") -> int:
    """The job: on the day the last due month's brief is due, the brief in the quality channel
    and the month's complaint statistics in the commercial one; when the month ends a quarter,
    the quarterly analysis; when it ends the year, the annual report and the year's complaint
    statistics. Each once (its key is its period); returns how many were queued."""
    from bot.reports.complaint_report import complaint_report_key, queue_complaint_report
    from bot.reports.period_report import analysis_key, queue_analysis

    local = now.astimezone(tz)
    month = last_due_month(session, local.date())
    if local.date() < brief_day(session, month) or local.hour < int(data_call_settings(session)["send_from_hour"]):
        return 0
    customers = all_customers(session)
    if not customers:
        return 0  # a company starting: nothing to report on
    year, number = int(month[:4]), int(month[5:])
    due: list[tuple[str, Callable[[str], object]]] = []
    if commercial_channel:
        due.append((complaint_report_key(month), lambda key: queue_complaint_report(
            session, [month], month, now, tz, locale, commercial_channel, key)))
        if number == 12:
            due.append((complaint_report_key(str(year)), lambda key: queue_complaint_report(
                session, months_of_year(year), str(year), now, tz, locale, commercial_channel, key)))
    scored = quality_channel and bool(stored.monthly_headlines(ScoreBook(session, now, tz), customers, [month]))
    if scored:  # no customer scored in the month: no brief and no analysis of it
        due.append((brief_key(month), lambda key: queue_brief(session, month, now, tz, locale, quality_channel, key)))
        periods = [report_period("quarter", f"{year}-Q{number // 3}")] if number % 3 == 0 else []
        periods += [report_period("year", str(year))] if number == 12 else []
        for period in periods:
            due.append((analysis_key(period), lambda key, period=period: queue_analysis(
                session, period, now, tz, locale, quality_channel, key)))
    queued = 0
    for key, queue in due:
        if not outbox.exists(session, key):
            queue(key)
            queued += 1
    return queued


def queue_brief(session: Session, month: str, now: dt.datetime, tz: ZoneInfo, locale: str, channel: str,
                key: str) -> None:
    """The brief under `key`, and in its thread the heat map and the two workbooks."""
    _ = gettext_for(locale)
    numbers = indicators(session, ReportPeriod("month", month, (month,)), now, tz)
    message = brief_message(session, numbers, now, tz, locale)
    outbox.enqueue(session, key, "post", channel, message, now)
    book = ScoreBook(session, now, tz)
    chart = overview_answer(session, Caller("", locale), month, None, book)
    if chart.chart is not None:
        outbox.enqueue(session, f"{key}:chart", "image", channel, None, now, thread_of=key, image=chart.chart,
                       image_title=chart.chart_title)
    start, end = month_start(month), month_end(month)
    outbox.enqueue(session, f"{key}:scorecard", "image", channel, None, now, thread_of=key,
                   image=scorecard_workbook(session, month, locale, tz, now),
                   image_title=_("Customer satisfaction monitoring and evaluation form {period}").format(period=month),
                   file_name=f"customer-satisfaction-form-{month}.xlsx")
    outbox.enqueue(session, f"{key}:complaints", "image", channel, None, now, thread_of=key,
                   image=complaint_ledger_workbook(session, start, end, locale, tz),
                   image_title=_("Complaint ledger {period}").format(period=month),
                   file_name=f"complaint-ledger-{month}.xlsx")


def brief_message(session: Session, numbers: dict[str, Any], now: dt.datetime, tz: ZoneInfo,
                  locale: str) -> Message:
    _ = gettext_for(locale)
    month = str(numbers["period"])
    book = ScoreBook(session, now, tz)
    rules = book.rules_for(month)
    mean, change = numbers["mean_score"], numbers["mean_change"]
    title = _("Monthly customer satisfaction brief · {month}").format(month=month)
    grades: dict[str, int] = numbers["grades"]
    fields = [Field(_("Mean score"), "—" if mean is None else score_text(float(mean))),
              Field(_("Change against last month"), signed(change)),
              Field(_("Customers scored"), str(numbers["customers"]))]
    fields += [Field(grade_name(rules, key, locale), str(count)) for key, count in grades.items()]
    parts: list = [FieldList(fields)]
    below: list[str] = numbers["below_target"]
    if below:
        codes = all_customers(session)
        ids = [cid for cid, code in codes.items() if code in set(below)]
        scores = book.monthly({cid: codes[cid] for cid in ids}, [month])
        names = {c.id: pick(locale, c.name_zh, c.name_en) for c in session.scalars(
            select(Customer).where(Customer.id.in_(ids)))}
        lines = []
        for (cid, _m), score in sorted(scores.items(), key=lambda item: item[1].total):
            lost = ", ".join(f"{_(CATEGORY_NAMES[c])} −{fmt(score.lost[c])}" for c in CATEGORIES if score.lost.get(c))
            lines.append(f"• {codes[cid]} {names.get(cid, '')} {score_text(score.total)}" + (f" ({lost})" if lost
                                                                                                else ""))
        shown = lines[:15]
        parts.append(Paragraph(_("Below target ({target:g}):").format(target=rules.monthly_target), strong=True))
        parts.append(Paragraph("\n".join(shown)))
        if len(lines) > len(shown):
            parts.append(Context(_("…and {n} more: every customer is in the evaluation form in the thread.").format(
                n=len(lines) - len(shown))))
    else:
        parts.append(Paragraph(_("No customer is below target ({target:g}).").format(target=rules.monthly_target)))
    complaints = numbers["complaints"]
    sla: dict[str, dict[str, int]] = complaints["sla"]
    kept = [Field(_(MILESTONE_NAMES.get(key, key)), _("{met} on time, {breached} late").format(**counts))
            for key, counts in sla.items() if counts["met"] or counts["breached"]]
    parts.append(Paragraph(_("Complaints received: {n}").format(n=complaints["count"]), strong=True))
    if kept:
        parts.append(FieldList(kept))
    actions = numbers["actions"]
    parts.append(FieldList([Field(_("Figures still missing"), str(numbers["figures_missing"])),
                            Field(_("Corrective actions open"), str(actions["open"])),
                            Field(_("Overdue"), str(actions["overdue"]))]))
    parts.append(Context(_("The heat map, the evaluation form of every customer and the complaint ledger are in "
                           "the thread.")))
    text = _("{month}: mean score {mean}, {n} below target").format(
        month=month, mean="—" if mean is None else score_text(float(mean)), n=len(below))
    return Message(text=text, cards=[Card(title=title, parts=parts)])
