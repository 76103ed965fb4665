"""The monthly call's messages, derived from the database as of any moment.

For the current period: the call on the opening day (or whenever the bot first runs after
it), reminders in the call's thread two working days before and on the due date, after it
one overdue DM, one quality-channel post kept up to date, and a daily digest for quality
engineers. Each message has an idempotency key, so running this any number of times, on
any number of replicas, queues each message once; a person who has handed in everything
is never chased.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import outbox
from bot.calendar import WorkingCalendar
from bot.calendar_watch import warn_unknown_years
from bot.datacall import (
    CallContext,
    call_dates,
    call_message,
    current_period,
    obligations,
    overdue_post,
    status_report,
)
from bot.directory import people_with_role
from bot.i18n import gettext_for
from bot.settings_store import data_call_settings
from bot.views import Card, Message, Paragraph, Table


@dataclass
class ChaseReport:
    period: str
    phase: str
    queued: int = 0


def chase(session: Session, now: dt.datetime, tz: ZoneInfo, company_locale: str, quality_channel: str) -> ChaseReport:
    local = now.astimezone(tz)
    today = local.date()
    settings = data_call_settings(session)
    calendar = WorkingCalendar.load(session)
    period = current_period(today)
    dates = call_dates(calendar, period, settings)
    report = ChaseReport(period, dates.phase(today))
    warn_unknown_years(session, calendar, quality_channel, company_locale, now)
    if report.phase == "not_open" or local.hour < settings["send_from_hour"]:
        return report
    duties = obligations(session, period, min(today, dates.due))
    context = CallContext.load(session, dates, company_locale)
    rows: list[outbox.Queued] = []
    for duty in duties.values():
        if duty.done:
            continue
        call_key = f"datacall:{period}:{duty.slack_user_id}:call"
        rows.append(outbox.Queued(call_key, "dm", duty.slack_user_id, call_message(context, duty)))
        stage = ("due-2" if dates.remind <= today < dates.due else "due" if today == dates.due
                 else "overdue" if today > dates.due else None)
        if stage is not None:
            rows.append(outbox.Queued(f"datacall:{period}:{duty.slack_user_id}:{stage}", "dm", duty.slack_user_id,
                                      call_message(context, duty, stage),
                                      thread_of=call_key))
    if today > dates.due and calendar.is_working_day(today):
        rows.extend(_overdue_messages(session, period, today, calendar, company_locale, quality_channel))
    report.queued = outbox.enqueue_many(session, rows, now)
    return report


def _overdue_messages(session: Session, period: str, today: dt.date, calendar: WorkingCalendar,
                      company_locale: str, quality_channel: str) -> list[outbox.Queued]:
    status = status_report(session, period, today, calendar)
    status["as_of"] = today.isoformat()
    late = [p for p in status["people"] if p["status"] == "late"]
    rows: list[outbox.Queued] = []
    post_key = f"datacall:{period}:overdue-post"
    if quality_channel:
        if late:
            rows.append(outbox.Queued(post_key, "post", quality_channel, overdue_post(status, company_locale)))
        # the post is updated in place each working day (and once more when everyone is in)
        update_key = f"{post_key}:update:{today.isoformat()}" if late else f"{post_key}:update:done"
        if late or outbox.exists(session, post_key):
            rows.append(outbox.Queued(update_key, "update", quality_channel, overdue_post(status, company_locale),
                                      update_of=post_key))
    if late:
        for engineer in people_with_role(session, "quality_engineer"):
            locale = engineer.locale or company_locale
            rows.append(outbox.Queued(f"datacall:{period}:digest:{engineer.slack_user_id}:{today.isoformat()}", "dm",
                                      engineer.slack_user_id, _digest(status, late, locale)))
    return rows


def _digest(status: dict[str, object], late: list[dict[str, object]], locale: str) -> Message:
    _ = gettext_for(locale)
    text = _("Daily digest: {n} people still owe figures for {period} (due {due}).").format(
        n=len(late), period=status["period"], due=status["due"])
    rows = [[str(p["name"]), f"{p['submitted']}/{p['items']}"] for p in late[:40]]
    return Message(text=text, cards=[Card(title=_("Overdue figures digest"), parts=[
        Paragraph(text), Table([_("Person"), _("Done")], rows)])])
