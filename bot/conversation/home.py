"""App Home: what I owe this month and its status; for quality engineers the submission
matrix and the messages csatbot could not deliver; then the commands."""

from __future__ import annotations

import datetime as dt
import json
from textwrap import shorten

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.use_cases import my_actions_card
from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.commands import help_message
from bot.core.context import AppContext
from bot.core.deduplication import first_time
from bot.core.delivery import failure_cause, retry_failed
from bot.core.i18n import pick
from bot.core.inputs import row_id
from bot.core.periods import current_period
from bot.core.replies import Reply, Request
from bot.core.roles import Authorizer
from bot.core.stored_settings import data_call_settings
from bot.core.texts import T, UserError
from bot.core.views import Actions, Button, Card, Context, Field, FieldList, Home, Paragraph, Part, Table
from bot.datacall.obligations import call_dates, obligations
from bot.datacall.status import status_report
from bot.people.callers import refusal, require
from bot.people.directory import person_by_slack_id
from storage.models import Metric

MATRIX_ROWS = 30
FAILED_SHOWN = 5


def _cell(counts: dict[str, int] | None) -> str:
    if not counts:
        return "·"
    if counts["submitted"] >= counts["owed"]:
        return "✅"
    return "◐" if counts["submitted"] else "✗"


def home_for(session: Session, caller: Caller, authorizer: Authorizer, today: dt.date,
             tz: dt.tzinfo = dt.UTC) -> Home:
    _ = caller._
    greeting = _("Hello, {name}.").format(name=caller.name) if caller.name else _("Hello.")
    cards = [Card(title=_("csatbot"), parts=[Paragraph(greeting)])]
    period = current_period(today)
    calendar = WorkingCalendar.load(session)
    dates = call_dates(calendar, period, data_call_settings(session))
    duty = obligations(session, period, min(today, dates.due)).get(caller.person_id or -1)
    if duty is not None:
        state = (_("all handed in") if duty.done else
                 _("late") if today > dates.due else _("not open yet") if today < dates.opens else _("open"))
        parts: list = [FieldList([
            Field(_("Month"), period), Field(_("Due"), dates.due.isoformat()),
            Field(_("Handed in"), f"{duty.handed_in}/{duty.required}"), Field(_("Status"), state),
        ])]
        if not duty.done:
            parts.append(Actions([Button(_("Enter figures"), "figures.open", json.dumps({"period": period}),
                                         "primary")]))
        cards.append(Card(title=_("My figures"), parts=parts))
    if authorizer.allows(caller.roles, "figures.status_matrix"):
        report = status_report(session, period, today, calendar)
        states = {"submitted": "✅", "late": "⏰", "open": "…"}
        shown = report["people"][:MATRIX_ROWS]
        metrics = [m for m in session.scalars(select(Metric).order_by(Metric.sort_order))
                   if any(m.key in p["figures"] for p in shown)]
        rows = [[p["name"], *[_cell(p["figures"].get(m.key)) for m in metrics], states[p["status"]]] for p in shown]
        parts = [Paragraph(_("{submitted} of {people} people have handed in everything; {late} late.")
                           .format(**report["totals"]))]
        if rows:
            parts.append(Table([_("Person"), *[str(i + 1) for i in range(len(metrics))], _("Status")], rows))
            legend = " · ".join(f"{i + 1} {pick(caller.locale or 'zh-CN', m.name_zh, m.name_en)}"
                                for i, m in enumerate(metrics))
            parts.append(Context(legend + "  ✅ " + _("all handed in") + "  ◐ " + _("some") + "  ✗ " + _("none")
                                 + "  · " + _("not owed")))
        if len(report["people"]) > MATRIX_ROWS:
            parts.append(Context(_("First {n} shown; `/csat status` and `csatbot figures status --json` show "
                                   "everyone.").format(n=MATRIX_ROWS)))
        cards.append(Card(title=_("Submissions for {period}").format(period=period), parts=parts))
    mine = my_actions_card(session, caller)
    if mine is not None:
        cards.append(mine)
    if authorizer.allows(caller.roles, "outbox.retry"):
        undelivered = _undelivered(session, caller, tz)
        if undelivered is not None:
            cards.append(undelivered)
    cards.extend(help_message(caller, authorizer).cards)
    return Home(cards=cards)


def _undelivered(session: Session, caller: Caller, tz: dt.tzinfo) -> Card | None:
    """Failed messages are never dropped silently: the latest few, each with a retry."""
    _ = caller._
    count = outbox.failed_count(session)
    if not count:
        return None
    parts: list[Part] = [Paragraph(_("{n} messages could not be delivered. Mend the cause (invite csatbot to the "
                                     "channel, reactivate the person), then retry.").format(n=count))]
    for failed in outbox.failed(session, FAILED_SHOWN):
        person = person_by_slack_id(session, failed.target) if failed.target[:1] in "UW" else None
        where = person.name if person is not None else _("channel {id}").format(id=failed.target)
        when = failed.failed_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        parts.append(Paragraph(f"{where} · {when}\n{shorten(failed.text, 120) or failed.kind}"))
        parts.append(Context(failure_cause(failed.error).render(_)))
        if failed.retryable:
            parts.append(Actions([Button(_("Retry"), "outbox.retry", str(failed.id))]))
    if count > FAILED_SHOWN:
        parts.append(Context(_("Latest {n} shown; `csatbot outbox failed` lists them all.").format(n=FAILED_SHOWN)))
    return Card(title=_("Messages not delivered"), parts=parts)


def press_retry(ctx: AppContext, request: Request, value: str) -> Reply:
    """A quality engineer pressed Retry on a failed message in App Home; the home is
    published again to show what is left."""
    caller = request.caller
    require(ctx, caller, "outbox.retry", T("Only quality engineers can retry undelivered messages."))
    message_id = row_id(value)
    if message_id is None:
        raise UserError(T("That message is not known."))
    queued = retry_failed(ctx, message_id)
    with ctx.session() as session:
        home = home_for(session, caller, ctx.authorizer, ctx.local_today(), ctx.tz)
        outbox.enqueue(session, f"home:{caller.user_id}:retry:{value}:{request.key}", "home", caller.user_id, home,
                       ctx.now())
    if queued:  # the refreshed home is the answer
        return Reply()
    return Reply.text(caller._("That message is no longer waiting for a retry."))


def open_home(ctx: AppContext, caller: Caller, event_id: str | None) -> None:
    """Someone opened App Home: publish theirs (a refusal for someone csatbot does not know),
    once per event however often the messenger delivers it."""
    with ctx.session() as session:
        if not first_time(session, event_id, ctx.now()):
            return
        home = (home_for(session, caller, ctx.authorizer, ctx.local_today(), ctx.tz) if caller.known
                else Home(cards=refusal(session, caller).cards))
        outbox.enqueue(session, f"home:{caller.user_id}:{event_id}", "home", caller.user_id, home, ctx.now())
