"""The monthly call itself (SPEC §1): the direct message that asks a person for a month's
figures, with the dates, what is owed and the button, and the reminders in its thread."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.i18n import Gettext, gettext_for, pick, unit_name
from bot.core.stored_settings import data_call_settings
from bot.core.views import Actions, Button, Card, Context, Field, FieldList, Message, Paragraph, Table
from bot.datacall.dialog import dialog_pages
from bot.datacall.obligations import CallDates, Obligation
from storage.models import (
    Metric,
    Person,
    Role,
)

# --- when -------------------------------------------------------------------------------------------------


# --- who owes what ----------------------------------------------------------------------------------------


# --- what people see --------------------------------------------------------------------------------------


def weekday_date(_: Gettext, day: dt.date) -> str:
    names = _("Mon Tue Wed Thu Fri Sat Sun").split()
    return f"{day.isoformat()} ({names[day.weekday()]})"


def role_names(session: Session, locale: str) -> dict[str, str]:
    return {r.key: pick(locale, r.name_zh, r.name_en) for r in session.scalars(select(Role))}


@dataclass
class CallContext:
    """What every call message of a month shares, loaded once for a fan-out to thousands."""

    dates: CallDates
    settings: dict[str, Any]
    company_locale: str
    metrics: dict[str, Metric]
    roles: dict[str, Role]
    people: dict[int, str]
    unknown_year: int | None = None  # the dates fall in a year whose make-up working days are not known

    @classmethod
    def load(cls, session: Session, dates: CallDates, company_locale: str,
             calendar: WorkingCalendar | None = None, people: set[int] | None = None) -> CallContext:
        """`people`: only these names are needed (one person's call, not the fan-out)."""
        unknown = next((d.year for d in (dates.opens, dates.due) if calendar is not None
                        and not calendar.knows_year(d.year)), None)
        names = select(Person.id, Person.name)
        if people is not None:
            names = names.where(Person.id.in_(people))
        return cls(dates, data_call_settings(session), company_locale,
                   {m.key: m for m in session.scalars(select(Metric))},
                   {r.key: r for r in session.scalars(select(Role))},
                   dict(session.execute(names).all()), unknown)


def call_message(context: CallContext, duty: Obligation, reminder: str | None = None) -> Message:
    """The DM that calls for a month's figures (or reminds, threaded under the call)."""
    dates, settings, metrics, people = context.dates, context.settings, context.metrics, context.people
    locale = duty.locale or context.company_locale
    _ = gettext_for(locale)
    names = {k: pick(locale, r.name_zh, r.name_en) for k, r in context.roles.items()}
    outstanding = duty.outstanding
    per_metric: dict[str, int] = defaultdict(int)
    for item in outstanding:
        per_metric[item.metric] += 1
    due = weekday_date(_, dates.due)
    if reminder == "due-2":
        text = _("Reminder: your figures for {period} are due on {due}; {n} still missing.").format(
            period=dates.period, due=due, n=len(outstanding))
    elif reminder == "due":
        text = _("Today is the due date for your figures for {period}: {n} still missing.").format(
            period=dates.period, n=len(outstanding))
    elif reminder == "overdue":
        text = _("Your figures for {period} were due on {due} and {n} are still missing. Please hand them in "
                 "today.").format(period=dates.period, due=due, n=len(outstanding))
    elif not outstanding:
        text = _("All your figures for {period} are handed in. Thank you.").format(period=dates.period)
    else:
        text = _("Please hand in your figures for {period} by {due}.").format(period=dates.period, due=due)
    roles = [Field(names.get(role, role), _("for yourself") if owner == duty.person_id
                   else _("on behalf of {name}").format(name=people.get(owner, "?")))
             for role, owner in duty.roles.items()]
    rows = [[pick(locale, metrics[k].name_zh, metrics[k].name_en), unit_name(_, metrics[k].unit), str(n)]
            for k, n in per_metric.items()]
    parts: list = [Paragraph(text, strong=reminder is not None), FieldList(roles)]
    if rows:
        parts.append(Table([_("Figure"), _("Unit"), _("Missing")], rows[:20]))
    pages = len(dialog_pages(outstanding or list(duty.items)))
    if pages > 5:
        parts.append(Paragraph(_("That is {pages} pages of figures: pick a customer with `/csat figures {period} "
                                 "<customer>`, or send an Excel file to a quality engineer for "
                                 "`csatbot import figures`.").format(pages=pages, period=dates.period)))
    parts.append(Actions([Button(_("Enter figures"), "figures.open", json.dumps({"period": dates.period}),
                                 "primary")]))
    parts.append(Context(_("A month's figures open on working day {open} and are due on working day {due} of the "
                           "following month, on the Chinese working calendar.").format(
        open=settings["open_working_day"], due=settings["due_working_day"])
        if reminder is None else _("Figures already handed in are not asked for again.")))
    if context.unknown_year is not None:
        parts.append(Context(_("⚠️ The holiday arrangement for {year} is not loaded yet: these dates count the "
                               "statutory holidays but no make-up working days (调休), so they may still move.")
                             .format(year=context.unknown_year)))
    title = _("Monthly figures for {period}").format(period=dates.period)
    return Message(text=text, cards=[Card(title=title, parts=parts)])


# --- the dialog -------------------------------------------------------------------------------------------


# --- where things stand -----------------------------------------------------------------------------------


