"""Due dates of corrective actions, chased on the working calendar (SPEC §6): a reminder two
working days before and on the due day, an overdue message to the owner and on the next
working day to the owner's department head, each once, and the overdue actions in a
daily post in the quality channel. Derived from rows every run, through the outbox with
keys that name the due date, so a restart or a second scheduler sends nothing twice and
a new due date chases afresh."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.card import action_card
from bot.actions.lifecycle import CLOSED, steps_by_action
from bot.actions.terms import STATE_NAMES
from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.i18n import gettext_for, pick
from bot.core.stored_settings import data_call_settings
from bot.core.views import Card, Field, FieldList, Message, Paragraph
from bot.people.identities import address_of
from storage.models import Complaint, CorrectiveAction, Customer, Person, PersonRole

REMIND_WORKING_DAYS = 2
LOOK_AHEAD_DAYS = 21  # calendar days that hold two working days even across Spring Festival
DIGEST_ROWS = 20


@dataclass
class Chased:
    queued: int = 0
    overdue: int = 0


def chase_actions(session: Session, now: dt.datetime, tz: ZoneInfo, company_locale: str,
                  quality_channel: str) -> Chased:
    local = now.astimezone(tz)
    today = local.date()
    calendar = WorkingCalendar.load(session)
    result = Chased()
    if not calendar.is_working_day(today) or local.hour < int(data_call_settings(session)["send_from_hour"]):
        return result
    actions = list(session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.status.not_in(CLOSED), CorrectiveAction.due_date.is_not(None),
        CorrectiveAction.due_date <= today + dt.timedelta(days=LOOK_AHEAD_DAYS))
        .order_by(CorrectiveAction.due_date, CorrectiveAction.id)))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(
        {a.owner_id for a in actions if a.owner_id is not None})))}
    heads: dict[str, list[Person]] = {}
    for head in session.scalars(select(Person).join(PersonRole).where(
            PersonRole.role_key == "department_head", Person.active.is_(True))):
        heads.setdefault(head.department, []).append(head)
    remind_from: dict[dt.date, dt.date] = {}
    first_overdue: dict[dt.date, dt.date] = {}
    due_day: dict[dt.date, dt.date] = {}
    wanted: list[tuple[str, CorrectiveAction, Person, str]] = []  # key, action, to whom, which message
    overdue: list[CorrectiveAction] = []
    for action in actions:
        due = action.due_date
        assert due is not None
        owner = people.get(action.owner_id) if action.owner_id is not None else None
        if due < today:
            overdue.append(action)
        if owner is None or not address_of(owner):
            continue
        stem = f"action:{action.id}:due:{due.isoformat()}"
        if due not in remind_from:
            remind_from[due] = calendar.nth_working_day_before(due, REMIND_WORKING_DAYS)
            first_overdue[due] = calendar.nth_working_day_after(due, 1)
            # a due date on a day off is told on the last working day before it
            due_day[due] = due if calendar.is_working_day(due) else calendar.nth_working_day_before(due, 1)
        if remind_from[due] <= today < due_day[due]:
            wanted.append((f"{stem}:before", action, owner, "before"))
        elif due_day[due] <= today <= due:
            wanted.append((f"{stem}:today", action, owner, "today" if due_day[due] == due else "last_day"))
        elif today > due:
            wanted.append((f"{stem}:overdue", action, owner, "overdue"))
            if today > first_overdue[due]:  # the owner was told a working day ago
                for head in heads.get(owner.department, []) if owner.department else []:
                    if head.id != owner.id:
                        wanted.append((f"{stem}:head:{head.id}", action, head, "head"))
    # the cards in the messages name customers and complaints: loaded once, kept while the messages are built
    loaded = [*session.scalars(select(Customer).where(Customer.id.in_(
        {a.customer_id for _k, a, *_rest in wanted if a.customer_id is not None}))),
        *session.scalars(select(Complaint).where(Complaint.id.in_(
            {a.complaint_id for _k, a, *_rest in wanted if a.complaint_id is not None})))]
    digest_key = f"actions:overdue:{today.isoformat()}"
    already = outbox.queued(session, [key for key, *_rest in wanted] + [digest_key])
    steps = steps_by_action(session, sorted({a.id for key, a, *_rest in wanted if key not in already}))
    def expires(action: CorrectiveAction, which: str) -> dt.datetime | None:
        """A reminder held up by an outage past its day is superseded, not sent late."""
        assert action.due_date is not None
        ends = {"before": action.due_date, "today": action.due_date + dt.timedelta(days=1),
                "last_day": action.due_date + dt.timedelta(days=1)}.get(which)
        return dt.datetime.combine(ends, dt.time(0), tz).astimezone(dt.UTC) if ends else None

    rows = [outbox.Queued(key, "dm", address_of(person),
                          _message(session, action, person, which, company_locale, steps.get(action.id, [])),
                          expires_at=expires(action, which))
            for key, action, person, which in wanted if key not in already]
    if overdue and quality_channel and digest_key not in already:
        rows.append(outbox.Queued(digest_key, "post", quality_channel, _digest(session, overdue, today,
                                                                               company_locale)))
    result.queued = outbox.enqueue_many(session, rows, now)
    del loaded
    result.overdue = len(overdue)
    return result


def _message(session: Session, action: CorrectiveAction, person: Person, which: str, company_locale: str,
             steps: list[dict[str, object]]) -> Message:
    locale = person.locale or company_locale
    _ = gettext_for(locale)
    due = action.due_date.isoformat() if action.due_date else "—"
    owner = session.get(Person, action.owner_id) if action.owner_id else None
    text = {
        "before": _("Corrective action #{id} is due on {due}."),
        "today": _("Corrective action #{id} is due today ({due})."),
        "last_day": _("Corrective action #{id} is due on {due}, a day off: today is the last working day before it."),
        "overdue": _("Corrective action #{id} is overdue: it was due on {due}."),
        "head": _("Corrective action #{id}, owned by {owner} in your department, is overdue: it was due on {due}."),
    }[which].format(id=action.id, due=due, owner=owner.name if owner else "—")
    return Message(text=text, cards=[Card(title="", parts=[Paragraph(text, strong=True)]),
                                     action_card(session, action, locale, steps=steps)])


def _digest(session: Session, overdue: list[CorrectiveAction], today: dt.date, locale: str) -> Message:
    _ = gettext_for(locale)
    owners = {p.id: p.name for p in session.scalars(select(Person).where(Person.id.in_(
        {a.owner_id for a in overdue if a.owner_id is not None})))}
    text = _("{n} corrective action(s) overdue on {day}.").format(n=len(overdue), day=today.isoformat())
    fields = []
    for action in overdue[:DIGEST_ROWS]:
        title_zh, _sep, title_en = action.title.partition(" / ")
        fields.append(Field(f"#{action.id} · {owners.get(action.owner_id or 0, '—')}",
                            f"{pick(locale, title_zh, title_en or title_zh)} · "
                            + _("due {date}").format(date=action.due_date.isoformat() if action.due_date else "—")
                            + f" · {_(STATE_NAMES.get(action.status, action.status))}"))
    parts: list = [Paragraph(text, strong=True), FieldList(fields)]
    if len(overdue) > DIGEST_ROWS:
        parts.append(Paragraph(_("… and {n} more: `csatbot actions list` lists them all.").format(
            n=len(overdue) - DIGEST_ROWS)))
    return Message(text=text, cards=[Card(title=_("Overdue corrective actions"), parts=parts)])
