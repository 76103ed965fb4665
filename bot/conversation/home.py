"""App Home: what I owe this month and its status; for quality engineers the submission
matrix and the messages csatbot could not deliver; then the commands."""

from __future__ import annotations

import datetime as dt
import json
import logging
from textwrap import shorten
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED
from bot.actions.use_cases import my_actions_card
from bot.calendar.working_days import WorkingCalendar
from bot.complaints.ledger import count_complaints, list_complaints
from bot.complaints.terms import STATUS_NAMES
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.commands import help_message
from bot.core.context import AppContext
from bot.core.deduplication import first_time
from bot.core.delivery import failure_cause, retry_failed
from bot.core.i18n import pick
from bot.core.inputs import row_id
from bot.core.periods import current_period
from bot.core.replies import FAILURE, Reply, Request
from bot.core.roles import Authorizer
from bot.core.stored_settings import data_call_settings
from bot.core.texts import T, UserError, name_list, score_text, short_label
from bot.core.views import Actions, Button, Card, Context, Field, FieldList, Home, Message, Paragraph, Part
from bot.datacall.obligations import call_dates, last_due_month, obligations
from bot.datacall.status import missing_name, status_report
from bot.people.callers import refusal, require
from bot.people.identities import person_by_address
from bot.reports.indicators import ReportPeriod, indicators
from bot.scorecard.answers import signed
from storage.models import CorrectiveAction, Customer

log = logging.getLogger(__name__)
MATRIX_ROWS = 30
HOME_LINES = 5
FAILED_SHOWN = 5


def home_for(session: Session, caller: Caller, authorizer: Authorizer, today: dt.date,
             tz: dt.tzinfo = dt.UTC, now: dt.datetime | None = None) -> Home:
    """Each role's Home leads with what it needs: management the last month's scores and what
    is overdue, quality engineers what is late and waits for them, everyone what they owe."""
    _ = caller._
    now = now or dt.datetime.combine(today, dt.time(12), tz)
    greeting = _("Hello, {name}.").format(name=caller.name) if caller.name else _("Hello.")
    cards = [Card(title=_("csatbot"), parts=[Paragraph(greeting)])]
    period = current_period(today)
    calendar = WorkingCalendar.load(session)
    report = (status_report(session, period, today, calendar)
              if authorizer.allows(caller.roles, "figures.status_matrix") else None)
    if "management" in caller.roles and authorizer.allows(caller.roles, "report.view"):
        cards.append(_glance(session, caller, today, now, tz))
    if authorizer.allows(caller.roles, "outbox.retry"):
        cards.append(_needs_you(session, caller, report, now, tz))
    mine = _my_figures(session, caller, today, calendar, period)
    if mine is not None:
        cards.append(mine)
    complaints = _my_complaints(session, caller, now)
    if complaints is not None:
        cards.append(complaints)
    actions = my_actions_card(session, caller)
    if actions is not None:
        cards.append(actions)
    if report is not None:
        cards.append(_submissions(caller, report))
    if authorizer.allows(caller.roles, "outbox.retry"):
        undelivered = _undelivered(session, caller, tz)
        if undelivered is not None:
            cards.append(undelivered)
    cards.extend(help_message(caller, authorizer).cards)
    return Home(cards=cards)


def _glance(session: Session, caller: Caller, today: dt.date, now: dt.datetime, tz: dt.tzinfo) -> Card:
    """The last month whose figures are in: mean, grades, who is below target, what is overdue."""
    _ = caller._
    locale = caller.locale or "zh-CN"
    month = last_due_month(session, today)
    numbers = indicators(session, ReportPeriod("month", month, (month,)), now, _zone(tz), today)
    mean = numbers["mean_score"]
    fields = [Field(_("Mean score"), "—" if mean is None else score_text(float(mean))),
              Field(_("Change against last month"), signed(numbers["mean_change"]))]
    fields += [Field(str(pick(locale, names["zh-CN"], names["en"])), str(numbers["grades"].get(key, 0)))
               for key, names in numbers["grade_names"].items()]
    fields += [Field(_("Complaints overdue"), str(count_complaints(session, "overdue"))),
               Field(_("Corrective actions overdue"), str(numbers["actions"]["overdue"]))]
    parts: list[Part] = [FieldList(fields)]
    below = numbers["below_target"]
    if below:
        names = {c.code: pick(locale, c.name_zh, c.name_en) for c in session.scalars(
            select(Customer).where(Customer.code.in_(below[:HOME_LINES])))}
        parts.append(Paragraph(_("Below target ({target:g}): {n}").format(target=numbers["target"], n=len(below)),
                               strong=True))
        parts.append(Paragraph("\n".join(f"• {code} {names.get(code) or ''}".rstrip() for code in below[:HOME_LINES])))
        if len(below) > HOME_LINES:
            parts.append(Context(_("…and {n} more: `/csat overview {month}` shows them all.").format(
                n=len(below) - HOME_LINES, month=month)))
    else:
        parts.append(Paragraph(_("No customer is below target ({target:g}).").format(target=numbers["target"])))
    parts.append(Context(_("`/csat overview` for the heat map, `/csat report month` for the brief.")))
    return Card(title=_("{month} at a glance").format(month=month), parts=parts)


def _zone(tz: dt.tzinfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo("UTC")


def _needs_you(session: Session, caller: Caller, report: dict[str, Any] | None, now: dt.datetime,
               tz: dt.tzinfo) -> Card:
    """For quality engineers: complaints past a deadline, people late with figures, actions overdue."""
    _ = caller._
    parts: list[Part] = []
    overdue = list_complaints(session, "overdue", None, now, limit=HOME_LINES)
    if overdue:
        total = count_complaints(session, "overdue")
        codes = dict(session.execute(select(Customer.id, Customer.code)).all())
        parts.append(Paragraph(_("Complaints past a deadline: {n}").format(n=total), strong=True))
        parts.append(Paragraph("\n".join(f"• {c.number} · {codes.get(c.customer_id, '')} · {short_label(c.symptom, 40)}"
                                         for c in overdue)))
        if total > HOME_LINES:
            parts.append(Context(_("…and {n} more: `/complaint list overdue`.").format(n=total - HOME_LINES)))
    late = [p for p in (report or {}).get("people", []) if p["status"] == "late"]
    if late:
        parts.append(Paragraph(_("Late with figures: {names}").format(
            names=name_list([p["name"] for p in late], 80)), strong=True))
    today = now.astimezone(tz).date()
    overdue_actions = session.scalar(select(func.count()).where(
        CorrectiveAction.status.not_in(CLOSED), CorrectiveAction.due_date < today)) or 0
    if overdue_actions:
        parts.append(Paragraph(_("Corrective actions overdue: {n} (`/csat actions overdue`)").format(
            n=overdue_actions), strong=True))
    if not parts:
        parts.append(Paragraph(_("Nothing is late: no complaint past a deadline, no late figures, no overdue "
                                 "action.")))
    return Card(title=_("Needs you"), parts=parts)


def _my_figures(session: Session, caller: Caller, today: dt.date, calendar: WorkingCalendar,
                period: str) -> Card | None:
    _ = caller._
    dates = call_dates(calendar, period, data_call_settings(session))
    duty = obligations(session, period, min(today, dates.due)).get(caller.person_id or -1)
    if duty is None:
        return None
    state = (_("all handed in") if duty.done else
             _("late") if today > dates.due else _("not open yet") if today < dates.opens else _("open"))
    parts: list[Part] = [FieldList([
        Field(_("Month"), period), Field(_("Due"), dates.due.isoformat()),
        Field(_("Handed in"), f"{duty.handed_in}/{duty.required}"), Field(_("Status"), state),
    ])]
    if not duty.done:
        parts.append(Actions([Button(_("Enter figures"), "figures.open", json.dumps({"period": period}),
                                     "primary")]))
    return Card(title=_("My figures"), parts=parts)


def _my_complaints(session: Session, caller: Caller, now: dt.datetime) -> Card | None:
    if caller.person_id is None:
        return None
    mine = list_complaints(session, "mine", caller.person_id, now, limit=HOME_LINES)
    if not mine:
        return None
    total = count_complaints(session, "mine", caller.person_id)
    _ = caller._
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    lines = [f"• {c.number} · {codes.get(c.customer_id, '')} · {_(STATUS_NAMES.get(c.status, c.status))} · "
             f"{short_label(c.symptom, 40)}" for c in mine]
    parts: list[Part] = [Paragraph("\n".join(lines))]
    if total > HOME_LINES:
        parts.append(Context(_("…and {n} more: `/complaint list mine`.").format(n=total - HOME_LINES)))
    return Card(title=_("My complaints ({n})").format(n=total), parts=parts)


def _submissions(caller: Caller, report: dict[str, Any]) -> Card:
    """Who still owes what, a line a person: on a phone a person x figure grid does not fit."""
    _ = caller._
    locale = caller.locale or "zh-CN"
    states = {"late": "⏰ " + _("late"), "open": "⏳ " + _("open")}
    owing = [p for p in report["people"] if p["status"] != "submitted"]
    parts: list[Part] = [Paragraph(_("{submitted} of {people} people have handed in everything; {late} late.")
                                   .format(**report["totals"]))]
    lines = [f"{states[p['status']]} · {p['name']} · {p['submitted']}/{p['items']} · "
             + name_list(sorted({missing_name(m, locale) for m in p["missing"]}), 50)
             for p in owing[:MATRIX_ROWS]]
    if lines:
        parts.append(Paragraph("\n".join(lines)))
    if len(owing) > MATRIX_ROWS:
        parts.append(Context(_("First {n} shown; `/csat status` and `csatbot figures status --json` show "
                               "everyone.").format(n=MATRIX_ROWS)))
    return Card(title=_("Submissions for {period}").format(period=report["period"]), parts=parts)


def _undelivered(session: Session, caller: Caller, tz: dt.tzinfo) -> Card | None:
    """Failed messages are never dropped silently: the latest few, each with a retry."""
    _ = caller._
    count = outbox.failed_count(session)
    if not count:
        return None
    parts: list[Part] = [Paragraph(_("{n} messages could not be delivered. Mend the cause (invite csatbot to the "
                                     "channel, reactivate the person), then retry.").format(n=count))]
    for failed in outbox.failed(session, FAILED_SHOWN):
        person = person_by_address(session, failed.target)
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
        home = home_for(session, caller, ctx.authorizer, ctx.local_today(), ctx.tz, ctx.now())
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
        home = (home_for(session, caller, ctx.authorizer, ctx.local_today(), ctx.tz, ctx.now()) if caller.known
                else Home(cards=refusal(session, caller).cards))
        outbox.enqueue(session, f"home:{caller.user_id}:{event_id}", "home", caller.user_id, home, ctx.now())


def answer_direct_text(ctx: AppContext, caller: Caller) -> None:
    """Someone wrote to csatbot in its direct messages: it answers commands and takes files,
    and says so, once a day (a chat of ten lines gets one answer)."""
    if not caller.known:  # a stranger's message is not answered; /csat tells them who to ask
        return
    with ctx.session() as session:
        _ = caller._
        text = _("csatbot answers commands: type `/csat help` to see yours. To hand in figures as a file, "
                 "`/csat figures form` sends you the Excel form; fill it in and send it back here.")
        outbox.enqueue(session, f"dm-text:{caller.user_id}:{ctx.local_today().isoformat()}", "dm", caller.user_id,
                       Message(text=text, cards=[Card(title="", parts=[Paragraph(text)])]), ctx.now())


def tell_failure(ctx: AppContext, caller: Caller) -> None:
    """What a person hears when csatbot failed on its side while answering them in a direct
    message (a request with a response URL is answered there instead)."""
    if not caller.known:
        return
    try:
        with ctx.session() as session:
            text = caller._(FAILURE)
            outbox.enqueue(session, f"failed:{caller.user_id}:{ctx.now().isoformat()}", "dm", caller.user_id,
                           Message(text=text), ctx.now())
    except Exception:  # the database itself may be what failed
        log.exception("could not tell %s about the failure", caller.user_id)
