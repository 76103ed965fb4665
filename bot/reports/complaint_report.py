"""Complaint statistics to the commercial department (003 §5 "质量安全部于每月底将信息反馈汇总给
商务部", 004 §5.3 e): the month's complaints by customer, cause and failure mode with the
Pareto, posted to the commercial channel with the ledger in the thread; the same for the year."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.complaints.statistics import span_stats, stats_message
from bot.core import outbox
from bot.core.i18n import gettext_for
from bot.core.periods import month_end, month_start
from bot.core.stored_settings import setting
from bot.reports.ledgers import complaint_ledger_workbook


def complaint_report_key(label: str) -> str:
    return f"complaint-report:{label}"


def queue_complaint_report(session: Session, months: list[str], label: str, now: dt.datetime, tz: ZoneInfo,
                           locale: str, channel: str, key: str) -> int:
    """The statistics under `key`; the Pareto of causes and the ledger of the months in its
    thread. Returns the number of complaints counted."""
    _ = gettext_for(locale)
    modes = list(setting(session, "complaints").get("failure_modes", []))
    stats = span_stats(session, months, tz, now, modes)
    stats["period"] = label
    answer = stats_message(stats, locale, modes)
    outbox.enqueue(session, key, "post", channel, answer.message, now)
    if answer.chart is not None:
        outbox.enqueue(session, f"{key}:chart", "image", channel, None, now, thread_of=key, image=answer.chart,
                       image_title=answer.chart_title)
    outbox.enqueue(session, f"{key}:ledger", "image", channel, None, now, thread_of=key,
                   image=complaint_ledger_workbook(session, month_start(months[0]), month_end(months[-1]), locale, tz),
                   image_title=_("Complaint ledger {period}").format(period=label),
                   file_name=f"complaint-ledger-{label}.xlsx")
    return int(stats["count"])
