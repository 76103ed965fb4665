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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.calendar.unknown_years import warn_unknown_years
from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.i18n import gettext_for
from bot.core.periods import add_months, current_period
from bot.core.stored_settings import data_call_settings
from bot.core.texts import name_list
from bot.core.views import Card, Context, Mention, Message, Paragraph, Table
from bot.datacall.call import CallContext, call_message
from bot.datacall.obligations import CallDates, Obligation, call_dates, obligations
from bot.datacall.status import missing_name, overdue_post, status_report
from bot.people.directory import department_heads_of, people_with_role
from bot.people.identities import address_of
from storage.models import Person


@dataclass
class ChaseReport:
    period: str
    phase: str
    queued: int = 0


def chase(session: Session, now: dt.datetime, tz: ZoneInfo, company_locale: str, quality_channel: str) -> ChaseReport:
    """The month being called for, and the month before it while anyone still owes it (a
    month late does not stop being late when the next one opens)."""
    local = now.astimezone(tz)
    today = local.date()
    settings = data_call_settings(session)
    calendar = WorkingCalendar.load(session)
    warn_unknown_years(session, calendar, quality_channel, company_locale, now, tz=tz)
    period = current_period(today)
    report = ChaseReport(period, call_dates(calendar, period, settings).phase(today))
    if local.hour < settings["send_from_hour"]:
        return report
    previous = add_months(period, -1)
    for month in (previous, period):
        dates = call_dates(calendar, month, settings)
        if dates.phase(today) == "not_open":
            continue
        if month == previous and not outbox.any_queued_for(session, f"datacall:{month}:", ending=":call"):
            continue  # the bot did not call for that month (installed since): nothing to chase
        report.queued += _chase_month(session, dates, today, now, tz, calendar, company_locale, quality_channel)
    return report


def call_key(period: str, user_id: str) -> str:
    """The outbox key of a person's call for a month: its reminders thread under it."""
    return f"datacall:{period}:{user_id}:call"


def refresh_call(session: Session, dates: CallDates, duty: Obligation, company_locale: str, now: dt.datetime,
                 version: str) -> None:
    """The call DM shows what is still missing: after figures are handed in it is updated in
    place, so it never asks for what has arrived."""
    key = call_key(dates.period, duty.address)
    if not outbox.exists(session, key):
        return
    context = CallContext.load(session, dates, company_locale, WorkingCalendar.load(session),
                               people=set(duty.roles.values()))
    outbox.update_in_place(session, key, version, duty.address, call_message(context, duty), now)


def _midnight_before(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def _chase_month(session: Session, dates: CallDates, today: dt.date, now: dt.datetime, tz: dt.tzinfo,
                 calendar: WorkingCalendar, company_locale: str, quality_channel: str) -> int:
    """The call, then the reminders of the day. A reminder that could not be delivered in
    time is superseded rather than sent late: the one before the due day once the due day
    begins, the due-day one when the day is over (the overdue reminder takes over)."""
    period = dates.period
    already = outbox.queued_for(session, f"datacall:{period}:")
    duties = obligations(session, period, min(today, dates.due))
    context = CallContext.load(session, dates, company_locale, calendar)
    working_day = calendar.is_working_day(today)
    rows: list[outbox.Queued] = []
    for duty in duties.values():
        if duty.done:
            continue
        key_of_call = call_key(period, duty.address)
        if key_of_call not in already:
            rows.append(outbox.Queued(key_of_call, "dm", duty.address, call_message(context, duty)))
        stage = ("due-2" if dates.remind <= today < dates.due else "due" if today == dates.due
                 else "overdue" if today > dates.due and working_day else None)
        key = f"datacall:{period}:{duty.address}:{stage}"
        if stage is not None and key not in already:
            expires = {"due-2": _midnight_before(dates.due, tz),
                       "due": _midnight_before(dates.due + dt.timedelta(days=1), tz)}.get(stage)
            rows.append(outbox.Queued(key, "dm", duty.address, call_message(context, duty, stage),
                                      thread_of=key_of_call, expires_at=expires))
    if today > dates.due and working_day:
        rows.extend(_overdue_messages(session, period, today, calendar, company_locale, quality_channel,
                                      _midnight_before(today + dt.timedelta(days=1), tz)))
    return outbox.enqueue_many(session, rows, now)


def _overdue_messages(session: Session, period: str, today: dt.date, calendar: WorkingCalendar,
                      company_locale: str, quality_channel: str, end_of_today: dt.datetime) -> list[outbox.Queued]:
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
        rows.extend(_escalations(session, status, late, today, calendar, company_locale))
        for engineer in people_with_role(session, "quality_engineer"):
            locale = engineer.locale or company_locale
            rows.append(outbox.Queued(f"datacall:{period}:digest:{address_of(engineer)}:{today.isoformat()}", "dm",
                                      address_of(engineer), _digest(status, late, locale),
                                      expires_at=end_of_today))  # tomorrow's digest replaces it
    return rows


def _escalations(session: Session, status: dict[str, Any], late: list[dict[str, Any]], today: dt.date,
                 calendar: WorkingCalendar, company_locale: str) -> list[outbox.Queued]:
    """A figure still missing `escalate_after_working_days` working days after the due date
    goes to the late person's department head, once per person and month (0: never)."""
    after = int(data_call_settings(session).get("escalate_after_working_days") or 0)
    due = dt.date.fromisoformat(str(status["due"]))
    days_late = calendar.working_days_between(due, today)
    if after <= 0 or days_late < after:
        return []
    rows = []
    for entry in late:
        person = session.get(Person, entry["person_id"])
        for head in department_heads_of(session, person):
            locale = head.locale or company_locale
            rows.append(outbox.Queued(
                f"datacall:{status['period']}:escalation:{address_of(head)}:{entry['address']}", "dm",
                address_of(head), escalation_message(status, entry, days_late, locale)))
    return rows


def escalation_message(status: dict[str, Any], entry: dict[str, Any], days_late: int, locale: str) -> Message:
    _ = gettext_for(locale)
    missing = name_list(sorted({missing_name(m, locale) for m in entry["missing"]}), 120)
    text = _("{name} still owes {n} figures for {period}, due {due}: {days} working days late.").format(
        name=entry["name"], n=entry["items"] - entry["submitted"], period=status["period"], due=status["due"],
        days=days_late)
    return Message(text=text, cards=[Card(title=_("Late figures in your department"), parts=[
        Mention(entry["address"], text) if entry["address"] else Paragraph(text),
        Context(_("Missing: {figures}").format(figures=missing)),
        Context(_("csatbot reminded them on the due date and every working day since; you hear of it once."))])])


def _digest(status: dict[str, object], late: list[dict[str, object]], locale: str) -> Message:
    _ = gettext_for(locale)
    text = _("Daily digest: {n} people still owe figures for {period} (due {due}).").format(
        n=len(late), period=status["period"], due=status["due"])
    rows = [[str(p["name"]), f"{p['submitted']}/{p['items']}"] for p in late[:40]]
    return Message(text=text, cards=[Card(title=_("Overdue figures digest"), parts=[
        Paragraph(text), Table([_("Person"), _("Done")], rows)])])
