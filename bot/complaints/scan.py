"""The SLA scan: which complaint deadlines reached their early warning or passed, as of
now. Each warning goes to the complaint's thread and its owner; each breach also up the
escalation chain (quality engineers, then the owner's department head; configurable). The
row is marked in the same transaction that queues the messages, and every message has an
idempotency key, so a restart or a second replica never warns twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from bot.complaints.card import card_key_of, local_time, publish
from bot.complaints.deadlines import complaint_settings
from bot.complaints.terms import MILESTONE_NAMES
from bot.core import outbox
from bot.core.i18n import gettext_for
from bot.core.views import Card, Mention, Message, Paragraph
from bot.people.directory import escalation_people
from bot.people.identities import address_of
from storage.models import Complaint, ComplaintDeadline, Customer, Person


@dataclass
class ScanReport:
    warned: int = 0
    breached: int = 0
    queued: int = 0


@dataclass(frozen=True)
class Due:
    deadline_id: int
    milestone: str
    due_at: dt.datetime
    warned_at: dt.datetime | None
    number: str
    owner_id: int | None


def scan(session: Session, now: dt.datetime, tz: ZoneInfo, company_locale: str, channel: str,
         batch: int = 2000) -> ScanReport:
    """One run: at most `batch` deadlines (a backlog drains over the next runs)."""
    settings = complaint_settings(session)
    chain = list(settings.get("escalation_chain", ["quality_engineer", "department_head"]))
    report = ScanReport()
    rows = [Due(*row) for row in session.execute(
        select(ComplaintDeadline.id, ComplaintDeadline.milestone, ComplaintDeadline.due_at,
               ComplaintDeadline.warned_at, Complaint.number, Complaint.owner_id)
        .join(Complaint, Complaint.id == ComplaintDeadline.complaint_id)
        .where(ComplaintDeadline.state == "open", Complaint.status.not_in(("waiting_customer", "closed")),
               or_(and_(ComplaintDeadline.warned_at.is_(None), ComplaintDeadline.warn_at <= now),
                   and_(ComplaintDeadline.breached_at.is_(None), ComplaintDeadline.due_at <= now)))
        .order_by(ComplaintDeadline.due_at)
        .limit(batch)
    )]
    if not rows:
        return report
    owners = {p.id: p for p in session.scalars(select(Person).where(
        Person.id.in_({r.owner_id for r in rows if r.owner_id is not None})))}
    escalation: dict[int | None, list[Person]] = {}
    queued: list[outbox.Queued] = []
    changes: list[dict[str, object]] = []
    posted = outbox.queued(session, [card_key_of(r.number) for r in rows])
    cards = {r.number for r in rows if card_key_of(r.number) in posted}
    for row in rows:
        owner = owners.get(row.owner_id) if row.owner_id else None
        breach = row.due_at <= now
        stage = "breach" if breach else "warn"
        if breach:
            changes.append({"id": row.deadline_id, "state": "breached", "breached_at": now,
                            "warned_at": row.warned_at or now})
            report.breached += 1
        else:
            changes.append({"id": row.deadline_id, "warned_at": now})
            report.warned += 1
        # the due time is part of the key: a reopened complaint's new deadline warns again
        base = f"sla:{row.number}:{row.milestone}:{row.due_at.astimezone(dt.UTC):%Y%m%d%H%M}:{stage}"
        expires = None if breach else row.due_at  # a warning not out by the deadline gives way to the breach
        if channel:  # in the card's thread; in the channel itself for a complaint without a card (imported)
            queued.append(outbox.Queued(f"{base}:thread", "post", channel,
                                        _notice(row, stage, company_locale, tz, owner),
                                        thread_of=card_key_of(row.number) if row.number in cards else None,
                                        expires_at=expires))
        recipients = [owner] if owner is not None else []
        if breach:
            if row.owner_id not in escalation:
                escalation[row.owner_id] = escalation_people(session, chain, owner)
            recipients += escalation[row.owner_id]
        for order, person in enumerate(recipients):
            if not address_of(person):
                continue
            role = "owner" if person is owner else f"escalate{order}"
            queued.append(outbox.Queued(f"{base}:{role}:{address_of(person)}", "dm", address_of(person),
                                        _notice(row, stage, person.locale or company_locale, tz, None,
                                                escalated=person is not owner), expires_at=expires))
    warned = [c for c in changes if "state" not in c]
    breached = [c for c in changes if "state" in c]
    for group in (warned, breached):  # bulk UPDATE by primary key, one statement per shape
        if group:
            session.execute(update(ComplaintDeadline), group)
    report.queued = outbox.enqueue_many(session, queued, now)
    _refresh_cards(session, {r.number for r in rows if r.due_at <= now}, channel, company_locale, tz, now)
    return report


def _refresh_cards(session: Session, numbers: set[str], channel: str, locale: str, tz: ZoneInfo,
                   now: dt.datetime) -> None:
    """A breach shows on the complaint's card too (for cards that were posted)."""
    if not numbers or not channel:
        return
    keys = outbox.queued(session, [card_key_of(n) for n in numbers])
    posted = [n for n in numbers if card_key_of(n) in keys]
    for complaint in session.scalars(select(Complaint).where(Complaint.number.in_(posted))):
        publish(session, complaint, channel, locale, tz, now, line_key=f"sla-card:{now.isoformat()}")


def _notice(row: Due, stage: str, locale: str, tz: ZoneInfo, mention: Person | None,
            escalated: bool = False) -> Message:
    _ = gettext_for(locale)
    milestone = _(MILESTONE_NAMES[row.milestone])
    due = local_time(row.due_at, tz)
    if stage == "warn":
        text = _("{number}: “{milestone}” is due at {due}; most of the time allowed has passed.").format(
            number=row.number, milestone=milestone, due=due)
    elif escalated:
        text = _("Escalation: {number} missed “{milestone}” (due {due}). Please make sure it is handled.").format(
            number=row.number, milestone=milestone, due=due)
    else:
        text = _("⚠️ {number}: “{milestone}” was due at {due} and is overdue.").format(
            number=row.number, milestone=milestone, due=due)
    # the channel is Slack's: an owner without a Slack id is named in the text, not mentioned
    part = Mention(mention.slack_user_id, text) if mention is not None and mention.slack_user_id else Paragraph(text)
    return Message(text=text, cards=[Card(title="", parts=[part])])


def opinion_reminders(session: Session, now: dt.datetime, company_locale: str) -> int:
    """Some days after closure the customer's owner is reminded to ask the customer's opinion
    of how it was handled (004 §5.3 d), once per complaint."""
    from bot.core.views import Actions, Button

    days = int(complaint_settings(session).get("opinion_reminder_days_after_close", 7))
    due = now - dt.timedelta(days=days)
    rows = session.execute(
        select(Complaint, Person).join(Customer, Customer.id == Complaint.customer_id)
        .join(Person, Person.id == Customer.owner_id)
        .where(Complaint.status == "closed", Complaint.closed_at <= due,
               Complaint.closed_at > due - dt.timedelta(days=30), Complaint.customer_opinion.is_(None))).all()
    queued = []
    for complaint, owner in rows:
        if not address_of(owner):
            continue
        _ = gettext_for(owner.locale or company_locale)
        text = _("{number} was closed {days} days ago: please ask the customer what they think of how it was "
                 "handled, and record it.").format(number=complaint.number, days=days)
        queued.append(outbox.Queued(f"complaint:{complaint.number}:opinion-reminder", "dm", address_of(owner),
                                    Message(text=text, cards=[Card(title="", parts=[
                                        Paragraph(text),
                                        Actions([Button(_("Customer's opinion"), "complaint.opinion",
                                                        complaint.number, "primary")])])])))
    return outbox.enqueue_many(session, queued, now)
