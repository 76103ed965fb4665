"""Where a month's call stands: who has handed in everything, who is late, what is missing; the
status message and the overdue post in the quality channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.i18n import gettext_for, pick
from bot.core.stored_settings import data_call_settings
from bot.core.texts import name_list
from bot.core.views import (
    Actions,
    Card,
    Context,
    Field,
    FieldList,
    Mention,
    Message,
    Paragraph,
    Table,
    my_language_button,
)
from bot.datacall.obligations import Obligation, call_dates, obligations
from storage.models import (
    Customer,
    Metric,
)


def status_report(session: Session, period: str, today: dt.date, calendar: WorkingCalendar) -> dict[str, Any]:
    """Who owes what for a month, for `/csat status` and `csatbot figures status --json`."""
    dates = call_dates(calendar, period, data_call_settings(session))
    duties = obligations(session, period, min(today, dates.due))
    metric_names = {key: (zh, en) for key, zh, en in session.execute(select(Metric.key, Metric.name_zh,
                                                                             Metric.name_en))}
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    people = []
    for duty in sorted(duties.values(), key=lambda d: (d.done, d.name)):
        state = "submitted" if duty.done else ("late" if today > dates.due else "open")
        people.append({
            "slack_user_id": duty.slack_user_id, "person_id": duty.person_id, "address": duty.address,
            "name": duty.name, "roles": sorted(duty.roles),
            "on_behalf_of": sorted({o for o in duty.roles.values() if o != duty.person_id}),
            "items": duty.required, "submitted": duty.handed_in, "status": state,
            "figures": _per_figure(duty),
            "missing": [{"metric": i.metric, "metric_name_zh": metric_names.get(i.metric, (i.metric,))[0],
                         "metric_name_en": metric_names.get(i.metric, (i.metric, i.metric))[-1],
                         "customer": codes.get(i.customer_id) if i.customer_id else None}
                        for i in duty.outstanding],
        })
    return {"period": period, "opens": dates.opens.isoformat(), "due": dates.due.isoformat(),
            "phase": dates.phase(today), "people": people,
            "totals": {"people": len(people), "submitted": sum(p["status"] == "submitted" for p in people),
                       "late": sum(p["status"] == "late" for p in people),
                       "open": sum(p["status"] == "open" for p in people)}}


def missing_count(session: Session, period: str, today: dt.date, calendar: WorkingCalendar) -> int:
    """How many figures of a month's call are still owed: the status report's missing ones,
    counted without building the report (a year's report counts twelve months)."""
    dates = call_dates(calendar, period, data_call_settings(session))
    return sum(len(duty.outstanding) for duty in obligations(session, period, min(today, dates.due)).values())


def _per_figure(duty: Obligation) -> dict[str, dict[str, int]]:
    """Per figure: how many values are owed (customers, or 1 company-wide) and handed in."""
    counts: dict[str, dict[str, int]] = {}
    for item in duty.items:
        if item in duty.optional:
            continue
        entry = counts.setdefault(item.metric, {"owed": 0, "submitted": 0})
        entry["owed"] += 1
        entry["submitted"] += item in duty.submitted
    return counts


def missing_name(missing: dict[str, Any], locale: str) -> str:
    return str(pick(locale, missing["metric_name_zh"], missing["metric_name_en"]))


def status_message(report: dict[str, Any], locale: str, limit: int = 25) -> Message:
    _ = gettext_for(locale)
    totals = report["totals"]
    title = _("Figures for {period}: where things stand").format(period=report["period"])
    text = _("{submitted} of {people} people have handed in everything; {late} late.").format(**totals)
    state_names = {"submitted": _("submitted"), "late": _("late"), "open": _("open")}
    rows = [[p["name"], state_names[p["status"]], f"{p['submitted']}/{p['items']}",
             name_list(sorted({missing_name(m, locale) for m in p["missing"]}))]
            for p in report["people"] if p["status"] != "submitted"][:limit]
    parts: list = [FieldList([Field(_("Opens"), report["opens"]), Field(_("Due"), report["due"]),
                              Field(_("Submitted"), f"{totals['submitted']}/{totals['people']}"),
                              Field(_("Late"), str(totals["late"]))]),
                   Paragraph(text)]
    if rows:
        parts.append(Table([_("Person"), _("Status"), _("Done"), _("Missing")], rows))
        if len(rows) < totals["people"] - totals["submitted"]:
            parts.append(Context(_("First {n} shown; `csatbot figures status --month {period} --json` lists "
                                   "everyone.").format(n=limit, period=report["period"])))
    return Message(text=text, cards=[Card(title=title, parts=parts)])


def overdue_post(report: dict[str, Any], locale: str) -> Message:
    """The quality channel's one post about who is late, updated in place."""
    _ = gettext_for(locale)
    late = [p for p in report["people"] if p["status"] == "late"]
    title = _("Overdue figures for {period} (due {due})").format(period=report["period"], due=report["due"])
    if not late:
        text = _("Everyone has handed in the figures for {period}.").format(period=report["period"])
        return Message(text=text, cards=[Card(title=title, parts=[Paragraph(text)])])
    text = _("{n} people still owe figures for {period}.").format(n=len(late), period=report["period"])
    rows = [[p["name"], f"{p['submitted']}/{p['items']}",
             name_list(sorted({missing_name(m, locale) for m in p["missing"]}))] for p in late[:40]]
    people = [str(p["slack_user_id"]) for p in late if p["slack_user_id"]]  # the channel is Slack's
    ask = text + " " + _("Please hand them in from your call message, or with `/csat figures`.")
    return Message(text=text, cards=[Card(title=title, parts=[
        Mention(people[0], ask, people[1:]) if people else Paragraph(ask),
        Table([_("Person"), _("Done"), _("Missing")], rows),
        Context(_("Updated {today}; this post is kept up to date rather than repeated.").format(
            today=report.get("as_of", ""))),
        Actions([my_language_button(locale, "overdue_figures", str(report["period"]))]),
    ])])
