"""Asking and reminding, derived from the rows each time: on the opening day each customer's
owner gets the personal links of the contacts the survey asks, to forward; then, every
`remind_every_working_days` working days until the survey closes, the ones who have not
answered. A phone survey's calls go to the customer-service reps instead, as a call list each
working day with a button per call. Once per key, whatever runs twice; nobody
who answered is named again."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.i18n import gettext_for, pick
from bot.core.stored_settings import data_call_settings, setting
from bot.core.views import Actions, Button, Card, Context, Message, Paragraph
from bot.people.identities import address_of
from bot.surveys.campaigns import EMPLOYEE, KIND_NAMES
from bot.surveys.employees import invitations as employee_invitations
from bot.surveys.employees import min_group
from bot.surveys.invitations import invitations_of, link_for
from storage.models import Person, PersonRole, SurveyCampaign, SurveyInvitation

LINES_PER_MESSAGE = 25  # a DM stays readable on a phone; more go in further messages, numbered


def _line(session: Session, invitation: SurveyInvitation, campaign: SurveyCampaign, locale: str,
          base_url: str) -> str:
    _ = gettext_for(locale)
    customer = invitation.customer
    contact = invitation.contact
    who = contact.name if contact else _("(no contact known: the questionnaire goes to the customer)")
    reach = " · ".join(x for x in ((contact.phone if contact else ""), (contact.email if contact else "")) if x)
    if invitation.answered_at is not None:
        return " · ".join((f"✅ *{customer.code}* {pick(locale, customer.name_zh, customer.name_en)}", who,
                           _("answered")))
    link = link_for(session, base_url, invitation, campaign) if base_url else ""
    return " · ".join(x for x in (f"*{customer.code}* {pick(locale, customer.name_zh, customer.name_en)}", who,
                                  reach, link) if x)


def _messages(session: Session, campaign: SurveyCampaign, invitations: list[SurveyInvitation], locale: str,
              base_url: str, reminder: bool) -> list[Message]:
    _ = gettext_for(locale)
    kind = _(KIND_NAMES.get(campaign.kind, campaign.kind))
    if reminder:
        lead = _("Survey {id} ({kind}) closes on {closes}. These have not answered yet:").format(
            id=campaign.id, kind=kind, closes=campaign.closes_on.isoformat())
    elif campaign.method == "phone":
        lead = _("Survey {id} ({kind}) is open until {closes}. Please call these contacts of your customers; open "
                 "each one's link during the call and enter their answers.").format(
            id=campaign.id, kind=kind, closes=campaign.closes_on.isoformat())
    else:
        lead = _("Survey {id} ({kind}) is open until {closes}. Please send each contact of your customers their "
                 "own link below; you are told as each answer arrives.").format(
            id=campaign.id, kind=kind, closes=campaign.closes_on.isoformat())
    how = (_("Each link is personal and takes one answer. The Excel questionnaire of a customer: "
             "`/csat survey form {id} CUSTOMER`.").format(id=campaign.id) if base_url else
           _("No public address is set for links (CSATBOT_PUBLIC_URL), so send each customer its Excel "
             "questionnaire: `/csat survey form {id} CUSTOMER`.").format(id=campaign.id))
    lines = [_line(session, i, campaign, locale, base_url) for i in invitations]
    chunks = [lines[i:i + LINES_PER_MESSAGE] for i in range(0, len(lines), LINES_PER_MESSAGE)] or [[]]
    messages = []
    for number, chunk in enumerate(chunks, start=1):
        title = _("Survey {id}: your customers").format(id=campaign.id)
        if len(chunks) > 1:
            title += f" ({number}/{len(chunks)})"
        parts: list = [Paragraph(lead, strong=True)] if number == 1 else []
        parts += [Paragraph(line) for line in chunk]
        if number == len(chunks):
            parts.append(Context(how))
        messages.append(Message(text=lead if number == 1 else title, cards=[Card(title=title, parts=parts)]))
    return messages


CALLS_PER_MESSAGE = 20  # a line and a button each: within a message's 50 blocks
CALL_BUTTON = "survey.call"


def _call_messages(campaign: SurveyCampaign, invitations: list[SurveyInvitation], locale: str) -> list[Message]:
    """Today's call list: who to call, their number, how the last call went, and a button
    that opens the call's dialog."""
    _ = gettext_for(locale)
    kind = _(KIND_NAMES.get(campaign.kind, campaign.kind))
    lead = _("Survey {id} ({kind}): today's calls, until {closes}. Record each call with its button.").format(
        id=campaign.id, kind=kind, closes=campaign.closes_on.isoformat())
    chunks = [invitations[i:i + CALLS_PER_MESSAGE] for i in range(0, len(invitations), CALLS_PER_MESSAGE)]
    messages = []
    for number, chunk in enumerate(chunks, start=1):
        title = _("Survey {id}: calls").format(id=campaign.id) + (f" ({number}/{len(chunks)})" if len(chunks) > 1
                                                                   else "")
        parts: list = [Paragraph(lead, strong=True)] if number == 1 else []
        for invitation in chunk:
            customer, contact = invitation.customer, invitation.contact
            line = " · ".join(x for x in (f"*{customer.code}* {pick(locale, customer.name_zh, customer.name_en)}",
                                          contact.name if contact else "", contact.phone if contact else "",
                                          _("not reached last time") if invitation.call_outcome == "not_reached"
                                          else "") if x)
            parts += [Paragraph(line), Actions([Button(_("📞 Record the call"), CALL_BUTTON, str(invitation.id))])]
        messages.append(Message(text=lead if number == 1 else title, cards=[Card(title=title, parts=parts)]))
    return messages


def _callers(session: Session) -> list[Person]:
    """Who makes the survey calls (000 §5.1.2): the customer-service reps."""
    return list(session.scalars(select(Person).join(PersonRole).where(
        PersonRole.role_key == "customer_service", Person.active.is_(True)).order_by(Person.id)))


def _chase_calls(session: Session, campaign: SurveyCampaign, today: dt.date, company_locale: str,
                 end_of_day: dt.datetime) -> list[outbox.Queued] | None:
    """A phone survey's calls shared among the reps, customer by customer; each rep's list
    every working day, of whom nobody reached yet (a refusal is not called again). None when
    the company has no rep: the owners are asked, as for a questionnaire."""
    reps = [p for p in _callers(session) if address_of(p)]
    if not reps:
        return None
    pending = [i for i in invitations_of(session, campaign.id) if i.answered_at is None and i.call_outcome != "refused"]
    customers = sorted({i.customer_id for i in pending})
    rep_of = {customer_id: reps[index % len(reps)] for index, customer_id in enumerate(customers)}
    rows: list[outbox.Queued] = []
    for rep in reps:
        mine = [i for i in pending if rep_of[i.customer_id] is rep]
        key = f"survey-calls:{campaign.id}:{rep.id}:{today.isoformat()}"
        if not mine or outbox.exists(session, f"{key}:1"):
            continue
        rows += [outbox.Queued(f"{key}:{number}", "dm", address_of(rep), message, expires_at=end_of_day)
                 for number, message in enumerate(_call_messages(campaign, mine, rep.locale or company_locale),
                                                  start=1)]
    return rows


EMPLOYEE_BUTTON = "survey.employee"


def _employee_message(campaign: SurveyCampaign, locale: str, reminder: bool, smallest: int) -> Message:
    _ = gettext_for(locale)
    lead = (_("A reminder: the employee survey closes on {closes}, and your answer is not in yet.") if reminder else
            _("You are asked to answer the employee survey, until {closes}. It takes three minutes.")).format(
        closes=campaign.closes_on.isoformat())
    return Message(text=lead, cards=[Card(title=_("Employee survey"), parts=[
        Paragraph(lead, strong=True),
        Paragraph(_("It is anonymous: your answers are kept with your department only, never with your name, and "
                    "the results of a group of fewer than {n} are never shown.").format(n=smallest)),
        Actions([Button(_("Answer anonymously"), EMPLOYEE_BUTTON, str(campaign.id), "primary")])])])


def _chase_employees(session: Session, campaign: SurveyCampaign, today: dt.date, calendar: WorkingCalendar,
                     every: int, company_locale: str, end_of_day: dt.datetime) -> list[outbox.Queued]:
    """The invitations on the opening day, then reminders to whoever has not answered,
    every `every` working days until it closes."""
    first_sent: dict[int, dt.date] = {}
    for key in outbox.queued_for(session, f"survey-employee:{campaign.id}:"):
        person, day = key.split(":")[2:4]
        first_sent[int(person)] = dt.date.fromisoformat(day)
    rows: list[outbox.Queued] = []
    smallest = min_group(session)
    for invitation, person in employee_invitations(session, campaign.id):
        if not person.active or not address_of(person):
            continue
        sent_on = first_sent.get(person.id)
        locale = person.locale or company_locale
        if sent_on is None:
            rows.append(outbox.Queued(f"survey-employee:{campaign.id}:{person.id}:{today.isoformat()}", "dm",
                                      address_of(person), _employee_message(campaign, locale, False, smallest)))
            continue
        since = calendar.working_days_between(sent_on, today)
        if invitation.answered or every <= 0 or since <= 0 or since % every:
            continue
        rows.append(outbox.Queued(f"survey-employee-reminder:{campaign.id}:{person.id}:{today.isoformat()}", "dm",
                                  address_of(person), _employee_message(campaign, locale, True, smallest),
                                  expires_at=end_of_day))
    return rows


def chase_surveys(session: Session, now: dt.datetime, tz: ZoneInfo, company_locale: str, base_url: str) -> int:
    local = now.astimezone(tz)
    today = local.date()
    calendar = WorkingCalendar.load(session)
    if not calendar.is_working_day(today) or local.hour < int(data_call_settings(session)["send_from_hour"]):
        return 0
    every = int(setting(session, "surveys").get("remind_every_working_days", 2))
    end_of_day = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tz)
    rows: list[outbox.Queued] = []
    for campaign in session.scalars(select(SurveyCampaign).where(
            SurveyCampaign.status == "open", SurveyCampaign.opens_on <= today, SurveyCampaign.closes_on >= today)):
        if campaign.kind == EMPLOYEE:
            rows += _chase_employees(session, campaign, today, calendar, every, company_locale, end_of_day)
            continue
        if campaign.method == "phone":
            calls = _chase_calls(session, campaign, today, company_locale, end_of_day)
            if calls is not None:
                rows += calls
                continue
        first_sent: dict[int, dt.date] = {}  # owner → the day their links went out
        for key in outbox.queued_for(session, f"survey-links:{campaign.id}:"):
            owner, day = key.split(":")[2:4]
            first_sent[int(owner)] = min(first_sent.get(int(owner), dt.date.max), dt.date.fromisoformat(day))
        reminded = outbox.queued_for(session, f"survey-reminder:{campaign.id}:")
        by_owner: dict[int, list[SurveyInvitation]] = defaultdict(list)
        for invitation in invitations_of(session, campaign.id):
            if invitation.customer.owner_id is not None:
                by_owner[invitation.customer.owner_id].append(invitation)
        for owner_id, invitations in sorted(by_owner.items()):
            person = session.get(Person, owner_id)
            if person is None or not person.active or not address_of(person):
                continue
            sent_on = first_sent.get(owner_id)
            if sent_on is None:
                key, reminder = f"survey-links:{campaign.id}:{owner_id}:{today.isoformat()}", False
            else:
                since = calendar.working_days_between(sent_on, today)
                key, reminder = f"survey-reminder:{campaign.id}:{owner_id}:{today.isoformat()}", True
                invitations = [i for i in invitations if i.answered_at is None]
                if every <= 0 or since <= 0 or since % every or not invitations or f"{key}:1" in reminded:
                    continue
            messages = _messages(session, campaign, invitations, person.locale or company_locale, base_url,
                                 reminder)
            rows += [outbox.Queued(f"{key}:{number}", "dm", address_of(person), message,
                                   expires_at=end_of_day if reminder else None)
                     for number, message in enumerate(messages, start=1)]
    return outbox.enqueue_many(session, rows, now)
