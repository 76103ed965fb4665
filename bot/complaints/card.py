"""A complaint's card in the quality channel: its facts, deadlines and buttons, posted once and
updated in place, with a line in its thread for each change; the list message."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED as CLOSED_ACTIONS
from bot.actions.terms import STATE_NAMES as ACTION_STATE_NAMES
from bot.complaints.deadlines import MILESTONES, SlaPolicyBook
from bot.complaints.terms import (
    EIGHT_D,
    FOUND_WHERE,
    MILESTONE_NAMES,
    RECEIVED_VIA,
    RESPONSIBILITY,
    SEVERITIES,
    STATUS_NAMES,
)
from bot.core import outbox
from bot.core.i18n import Gettext, gettext_for, pick
from bot.core.texts import Text, short_label
from bot.core.views import (
    Actions,
    Button,
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
from bot.people.identities import address_of, person_by_address
from storage.models import (
    Complaint,
    ComplaintDeadline,
    CorrectiveAction,
    Customer,
    EightDReport,
    Person,
)


def local_time(value: dt.datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def deadline_rows(deadlines: dict[str, ComplaintDeadline], complaint: Complaint, _: Gettext,
                  tz: ZoneInfo) -> list[list[str]]:
    rows = []
    for milestone in MILESTONES:
        deadline = deadlines.get(milestone)
        if deadline is None:
            continue
        if deadline.state == "met":
            state = "✅ " + _("met")
        elif deadline.state == "breached":
            state = "⚠️ " + (_("met late") if deadline.met_at else _("breached"))
        elif deadline.state == "not_needed":
            why = complaint.responsibility
            state = "— " + (_("not needed: the responsibility is the {who}").format(who=_(RESPONSIBILITY[why]))
                            if why in RESPONSIBILITY else _("not needed"))
        elif complaint.status == "waiting_customer":
            state = "⏸ " + _("paused")
        else:
            state = "⏳ " + _("not yet due")
        rows.append([_(MILESTONE_NAMES[milestone]), local_time(deadline.due_at, tz), state])
    return rows


def complaint_card(session: Session, complaint: Complaint, locale: str, tz: ZoneInfo, now: dt.datetime,
                   buttons: bool = True) -> Card:
    _ = gettext_for(locale)
    customer = session.get(Customer, complaint.customer_id)
    assert customer is not None
    owner = session.get(Person, complaint.owner_id) if complaint.owner_id else None
    name = pick(locale, customer.name_zh, customer.name_en)
    title = f"{complaint.number} · {name} · {_(SEVERITIES[complaint.severity])}"
    contact = " / ".join(x for x in (complaint.contact_name, complaint.contact_phone, complaint.contact_email) if x)
    product = " ".join(x for x in (complaint.product_model, complaint.specification) if x)
    fields = [
        Field(_("Status"), _(STATUS_NAMES.get(complaint.status, complaint.status))),
        Field(_("Owner"), owner.name if owner else _("nobody yet")),
        Field(_("Customer"), f"{customer.code} · {pick(locale, customer.name_zh, customer.name_en)}"),
        Field(_("Received"), f"{local_time(complaint.received_at, tz)} · "
                             f"{_(RECEIVED_VIA.get(complaint.received_via or 'other', 'other'))}"),
        Field(_("Found"), _(FOUND_WHERE[complaint.found_where]) if complaint.found_where in FOUND_WHERE
              else _("not recorded")),
        Field(_("Product"), product or "—"),
        Field(_("Quantity / batch"), f"{complaint.quantity or '—'} / {complaint.batch or '—'}"),
        Field(_("Customer contact"), contact or "—"),
        Field(_("Responsibility"), _(RESPONSIBILITY[complaint.responsibility]) if complaint.responsibility
              else _("not decided")),
    ]
    deadlines = {d.milestone: d for d in session.scalars(select(ComplaintDeadline).where(
        ComplaintDeadline.complaint_id == complaint.id))}
    parts: list = [Paragraph(complaint.symptom), FieldList(fields),
                   Table([_("Deadline"), _("Due"), _("State")], deadline_rows(deadlines, complaint, _, tz))]
    close, eight_d = deadlines.get("close"), deadlines.get("eight_d")
    if close is not None and eight_d is not None and close.due_at < eight_d.due_at and not (
            SlaPolicyBook.load(session).closes_after_eight_d(complaint.severity, complaint.customer_id)):
        parts.append(Context(_("⚠️ Closing is due before the 8D report: the customer's own deadlines make it so.")))
    report = session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))
    if report is not None or complaint.status == "eight_d":
        parts.append(Context(eight_d_progress(report, _)))
        if report is not None and report.d3_containment:
            parts.append(FieldList([Field(_("Containment"), report.d3_containment)]))
    for label, text in ((_("First response"), complaint.first_response), (_("Investigation"), complaint.investigation),
                        (_("Reply to the customer"), complaint.reply_to_customer),
                        (_("Customer's opinion after closure"), complaint.customer_opinion)):
        if text:
            parts.append(FieldList([Field(label, text)]))
    action = session.scalar(select(CorrectiveAction).where(CorrectiveAction.complaint_id == complaint.id)
                            .order_by(CorrectiveAction.id.desc()).limit(1))
    if action is not None:
        state = _(ACTION_STATE_NAMES.get(action.status, action.status))
        parts.append(Context(_("Corrective action #{id}: {state}.").format(id=action.id, state=state)
                             if action.status in CLOSED_ACTIONS else
                             _("⚠️ Corrective action #{id} is not verified yet: {state}.").format(id=action.id,
                                                                                                  state=state)))
    if buttons:
        parts.append(Actions(card_buttons(complaint, _)))
    parts.append(Context(_("Times in {tz}.").format(tz=str(tz))))
    return Card(title=title, parts=parts)


def eight_d_progress(report: EightDReport | None, _: Gettext) -> str:
    """Which of the 8D's disciplines are written, containment first, as the procedure asks."""
    written = [key for key, _label in EIGHT_D if report is not None and getattr(report, key)]
    marks = [f"{'✅' if key in written else '▫️'} {key[:2].upper()}" for key, _label in EIGHT_D]
    done = len(written)
    return _("8D: {done} of 8 written").format(done=done) + " · " + "  ".join(marks)


def card_buttons(complaint: Complaint, _: Gettext) -> list[Button]:
    number = complaint.number
    if complaint.status == "closed":
        return [Button(_("Record scorecard event"), "complaint.scorecard_event", number),
                Button(_("Customer's opinion"), "complaint.opinion", number),
                Button(_("Log a return"), "complaint.return", number),
                Button(_("Reopen"), "complaint.reopen", number, "danger")]
    buttons = []
    if not complaint.first_response:
        buttons.append(Button(_("Acknowledge"), "complaint.acknowledge", number, "primary"))
    buttons += [Button(_("Assign owner"), "complaint.assign", number),
                Button(_("Responsibility"), "complaint.responsibility", number),
                Button(_("Investigation"), "complaint.investigation", number),
                Button(_("8D"), "complaint.eight_d", number)]
    if complaint.status == "waiting_customer":
        buttons.append(Button(_("Customer replied"), "complaint.resume", number))
    else:
        buttons.append(Button(_("Wait for customer"), "complaint.pause", number))
    buttons += [Button(_("Log a return"), "complaint.return", number),
                Button(_("Close"), "complaint.close", number, "primary")]
    return buttons


def tell_owner(session: Session, complaint: Complaint, company_locale: str, tz: ZoneInfo, now: dt.datetime,
               key: str) -> None:
    """The owner hears of a complaint that became theirs, with its card (urgent: at once)."""
    owner = session.get(Person, complaint.owner_id) if complaint.owner_id else None
    if owner is None or not address_of(owner):
        return
    locale = owner.locale or company_locale
    _ = gettext_for(locale)
    text = _("You own complaint {number} ({severity}); its deadlines run from its receipt.").format(
        number=complaint.number, severity=_(SEVERITIES[complaint.severity]))
    card = complaint_card(session, complaint, locale, tz, now)
    outbox.enqueue(session, key, "dm", address_of(owner),
                   Message(text=text, cards=[Card(title="", parts=[Paragraph(text, strong=True)]), card]), now)


def _owner_copies(number: str) -> str:
    return f"complaint:{number}:owner:"


def owner_copy_key(number: str, which: str) -> str:
    """The outbox key of a copy of the card sent to an owner; publish() keeps them current."""
    return _owner_copies(number) + which


def _update_copies(session: Session, complaint: Complaint, company_locale: str, tz: ZoneInfo, now: dt.datetime,
                   version: str) -> None:
    """The copies of the card in owners' direct messages change with the card, so none of
    them keeps buttons for a step already taken."""
    for key, user in outbox.targets_for(session, _owner_copies(complaint.number)).items():
        person = person_by_address(session, user)
        locale = (person.locale if person is not None else None) or company_locale
        _ = gettext_for(locale)
        text = _("Complaint {number} as it stands now.").format(number=complaint.number)
        card = complaint_card(session, complaint, locale, tz, now)
        message = Message(text=text, cards=[Card(title="", parts=[Paragraph(text, strong=True)]), card])
        outbox.update_in_place(session, key, version, user, message, now)


def card_key_of(number: str) -> str:
    """The outbox key of a complaint's card: its thread and its updates hang off it."""
    return f"complaint:{number}:card"


def card_key(complaint: Complaint) -> str:
    return card_key_of(complaint.number)


def publish(session: Session, complaint: Complaint, channel: str, locale: str, tz: ZoneInfo, now: dt.datetime,
            line: Text | None = None, line_key: str | None = None, mention: str | None = None) -> None:
    """The card posted once, or updated in place (a newer update replaces one still waiting),
    and a line in its thread."""
    if not channel:
        return
    _ = gettext_for(locale)
    card = complaint_card(session, complaint, locale, tz, now)
    for part in card.parts:
        if isinstance(part, Actions):
            part.buttons.append(my_language_button(locale, "complaint", complaint.number))
    message = Message(text=card.title, cards=[card])
    key = card_key(complaint)
    version = f"{now.isoformat()}:{line_key or ''}"
    if not outbox.exists(session, key):
        outbox.enqueue(session, key, "post", channel, message, now)
    else:
        outbox.update_in_place(session, key, version, channel, message, now)
        _update_copies(session, complaint, locale, tz, now, version)
    if line is not None:
        text = line.render(_)
        parts: list = [Mention(mention, text)] if mention else [Paragraph(text)]
        outbox.enqueue(session, line_key or f"{key}:line:{now.isoformat()}", "post", channel,
                       Message(text=text, cards=[Card(title="", parts=parts)]), now, thread_of=key)


def list_message(session: Session, complaints: list[Complaint], which: str, locale: str, tz: ZoneInfo) -> Message:
    _ = gettext_for(locale)
    names = {"open": _("Open complaints"), "overdue": _("Overdue complaints"), "mine": _("My complaints"),
             "all": _("Complaints")}
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    rows = [[c.number, codes.get(c.customer_id, ""), _(SEVERITIES[c.severity]),
             _(STATUS_NAMES.get(c.status, c.status)), local_time(c.received_at, tz), short_label(c.symptom, 40)]
            for c in complaints[:25]]
    title = f"{names.get(which, names['all'])} ({len(complaints)})"
    parts: list = [Table([_("Number"), _("Customer"), _("Severity"), _("Status"), _("Received"), _("Symptom")], rows)
                   if rows else Paragraph(_("None."))]
    if len(complaints) > 25:
        parts.append(Context(_("First 25 shown; `csatbot complaints list --json` lists all.")))
    return Message(text=title, cards=[Card(title=title, parts=parts)])
