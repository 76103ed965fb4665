"""What each button on a complaint card asks for and does: a form (or none), the
permission it needs, and the change it makes, which comes back as the line for the thread.
Messenger-neutral: handlers/ renders the forms and calls apply()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.complaints import terms, workflow
from bot.complaints.terms import CAUSES
from bot.core.caller import Caller
from bot.core.i18n import N_, Gettext
from bot.core.inputs import MAX_AMOUNT, whole_pieces
from bot.core.texts import T, Text, UserError
from bot.core.views import FormField, Option
from bot.datacall.figures import decimal_places, parse_number
from bot.people.identities import address_of, person_by_address
from storage.models import Complaint, EightDReport, Person


@dataclass(frozen=True)
class ComplaintAction:
    key: str
    permission: str
    title: str  # msgid
    fields: Callable[[Session, Complaint, Gettext], list[FormField]] | None
    apply: Callable[[Session, Complaint, dict[str, Any], Caller, dt.datetime, ZoneInfo], Text]


def _text(values: dict[str, Any], key: str) -> str:
    return str(values.get(key) or "").strip()


def _required(values: dict[str, Any], key: str, message: Text) -> str:
    text = _text(values, key)
    if not text:
        raise FieldError(key, message)
    return text


class FieldError(UserError):
    """Bad input in one field of an action's form."""

    def __init__(self, field: str, text: Text) -> None:
        super().__init__(text)
        self.field = field


def _acknowledge(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
                 tz: ZoneInfo) -> Text:
    said = _required(values, "said", T("Write what was said to the customer."))
    workflow.acknowledge(session, complaint, caller.person_id, now, said)
    return T("{name} answered the customer: {said}", name=caller.name, said=said)


def _assign(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
            tz: ZoneInfo) -> Text:
    user = _required(values, "owner", T("Choose the new owner."))
    owner = person_by_address(session, user)
    if owner is None:
        raise FieldError("owner", T("That person is not in the people list."))
    workflow.assign(session, complaint, owner, caller.person_id, now)
    return T("{name} made {owner} the owner.", name=caller.name, owner=owner.name)


def _responsibility(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller,
                    now: dt.datetime, tz: ZoneInfo) -> Text:
    decision = _required(values, "decision", T("Choose ours, the customer's or the supplier's."))
    note = _text(values, "note") or None
    detail = _text(values, "detail") or None
    if decision not in terms.RESPONSIBILITY:
        raise FieldError("decision", T("Choose ours, the customer's or the supplier's."))
    workflow.decide_responsibility(session, complaint, decision, caller.person_id, now, note, detail)
    follow = {"ours": T("a nonconformity report goes to the responsible department and a corrective action follows."),
              "customer": T("reply with a quality information reply for the customer to confirm."),
              "supplier": T("handle it with the supplier under the supplier quality agreement.")}[decision]
    return T("{name} decided the responsibility: {decision}; {follow}", name=caller.name,
             decision=Text(terms.RESPONSIBILITY[decision]), follow=follow)


def _investigation(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller,
                   now: dt.datetime, tz: ZoneInfo) -> Text:
    text = _required(values, "investigation", T("Write what the investigation found and the measures proposed."))
    cause = _text(values, "cause") or None
    workflow.record_investigation(session, complaint, text, cause, caller.person_id, now)
    return T("{name} recorded the investigation: {text}", name=caller.name, text=text)


def _eight_d(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
             tz: ZoneInfo) -> Text:
    files = list(values.get("report") or [])
    filled = {key: _text(values, key) or None for key, _label in terms.EIGHT_D}
    existing = session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))
    has_containment = filled["d3_containment"] or (existing is not None and existing.d3_containment)
    if not has_containment and not files:
        raise FieldError("d3_containment", T("Containment comes first: describe it (or attach the 8D report)."))
    complete = workflow.record_eight_d(session, complaint, filled, files, caller.person_id, now)
    if complete:
        return T("{name} submitted the 8D report.", name=caller.name)
    return T("{name} updated the 8D (not complete yet).", name=caller.name)


def _close(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
           tz: ZoneInfo) -> Text:
    reply = _required(values, "reply", T("Closing needs the reply given to the customer."))
    cost = None
    if _text(values, "cost"):
        cost = parse_number(_text(values, "cost"))
        if cost is None or cost < 0 or cost >= MAX_AMOUNT:
            raise FieldError("cost", T("{value!r} is not an amount.", value=_text(values, "cost")))
        if decimal_places(cost) > 2:
            raise FieldError("cost", T("An amount has at most two decimal places (fen)."))
    try:
        workflow.close(session, complaint, reply, caller.person_id, now, Decimal(cost) if cost is not None else None,
                       tz)
    except workflow.NotClosable as missing:
        raise FieldError("reply", missing.text) from missing
    return T("{name} closed the complaint. Reply to the customer: {reply}. Did it cause scorecard events (line "
             "hold, production stop, repeat notice, return…)? Record them with the button on the card.",
             name=caller.name, reply=reply)


def _reopen(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
            tz: ZoneInfo) -> Text:
    reason = _required(values, "reason", T("Say why it is reopened."))
    workflow.reopen(session, complaint, reason, caller.person_id, now, tz)
    return T("{name} reopened the complaint: {reason}", name=caller.name, reason=reason)


def _pause(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
           tz: ZoneInfo) -> Text:
    workflow.pause(session, complaint, caller.person_id, now, _text(values, "reason") or None)
    return T("{name}: waiting for the customer; the deadlines are paused.", name=caller.name)


def _resume(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
            tz: ZoneInfo) -> Text:
    seconds = workflow.resume(session, complaint, caller.person_id, now, tz)
    return T("{name}: the customer replied; the deadlines moved by {hours} h of waiting.", name=caller.name,
             hours=round(seconds / 3600, 1))


def _opinion(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
             tz: ZoneInfo) -> Text:
    opinion = _required(values, "opinion", T("Write what the customer said."))
    complaint.customer_opinion = opinion
    complaint.updated_at = now
    return T("{name} recorded the customer's opinion: {opinion}", name=caller.name, opinion=opinion)


def _return(session: Session, complaint: Complaint, values: dict[str, Any], caller: Caller, now: dt.datetime,
            tz: ZoneInfo) -> Text:
    kind = _text(values, "kind") or "quality"
    raw = _required(values, "quantity", T("Enter the quantity returned."))
    pieces = whole_pieces(raw)
    if pieces is None:
        raise FieldError("quantity", T("Enter a whole number of pieces, e.g. 5."))
    reason = _text(values, "reason") or None
    if kind == "non_quality" and not reason:
        raise FieldError("reason", T("A non-quality return needs a reason."))
    row = workflow.log_return(session, complaint, complaint.customer_id, kind, reason,
                              (_text(values, "model") or complaint.product_model or "")[:200] or None, pieces,
                              caller.person_id, now)
    if kind == "quality":
        return T("{name} logged a quality return of {n} pcs with this complaint.", name=caller.name, n=row.quantity)
    return T("{name} asked to return {n} pcs for a non-quality reason ({reason}); an approver decides.",
             name=caller.name, n=row.quantity, reason=reason or "")


def _said(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("said", _("What was said to the customer"), "multiline", max_length=2000)]


def _owner(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    owner = session.get(Person, complaint.owner_id) if complaint.owner_id else None
    return [FormField("owner", _("New owner"), "user", initial=address_of(owner) if owner else None)]


def _decision(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("decision", _("Responsibility"), "select", initial=complaint.responsibility,
                      options=[Option(k, _(v)) for k, v in terms.RESPONSIBILITY.items()]),
            FormField("detail", _("Quality information reply or supplier reference"), "multiline", required=False,
                      hint=_("The customer's: the quality information reply it confirms. The supplier's: its "
                             "reference (claim or 8D number). Needed before closing."),
                      initial=complaint.responsibility_detail, max_length=3000),
            FormField("note", _("Note"), "multiline", required=False, max_length=2000)]


def _investigation_fields(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("investigation", _("Findings and proposed measures"), "multiline",
                      initial=complaint.investigation, max_length=3000),
            FormField("cause", _("Cause category"), "select", required=False, initial=complaint.cause_category,
                      options=[Option(k, _(v)) for k, v in CAUSES.items()])]


def _eight_d_fields(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    report = session.scalar(select(EightDReport).where(EightDReport.complaint_id == complaint.id))
    fields = [FormField(key, _(label), "multiline", required=False,
                        initial=getattr(report, key) if report else None, max_length=3000)
              for key, label in terms.EIGHT_D]
    fields.append(FormField("report", _("Or attach the 8D report"), "file", required=False))
    return fields


def _close_fields(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("reply", _("Reply given to the customer"), "multiline", max_length=3000),
            FormField("cost", _("Cost of the complaint (CNY)"), "text", required=False, max_length=20)]


def _reason_fields(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("reason", _("Why"), "multiline", max_length=2000)]


def _opinion_fields(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("opinion", _("What the customer thinks of how it was handled"), "multiline",
                      initial=complaint.customer_opinion, max_length=3000)]


def _return_fields(session: Session, complaint: Complaint, _: Gettext) -> list[FormField]:
    return [FormField("kind", _("Kind of return"), "select", initial="quality",
                      options=[Option("quality", _("quality return (with this complaint)")),
                               Option("non_quality", _("non-quality return (needs approval)"))]),
            FormField("quantity", _("Quantity"), "text", initial=str(complaint.quantity or ""), max_length=12),
            FormField("model", _("Product model"), "text", required=False, initial=complaint.product_model,
                      max_length=200),
            FormField("reason", _("Reason (required for a non-quality return)"), "multiline", required=False,
                      max_length=2000)]


ACTIONS: dict[str, ComplaintAction] = {a.key: a for a in (
    ComplaintAction("acknowledge", "complaint.acknowledge", N_("First response"), _said, _acknowledge),
    ComplaintAction("assign", "complaint.assign", N_("Assign owner"), _owner, _assign),
    ComplaintAction("responsibility", "complaint.decide_responsibility", N_("Responsibility"), _decision,
                    _responsibility),
    ComplaintAction("investigation", "complaint.investigate", N_("Investigation"), _investigation_fields,
                    _investigation),
    ComplaintAction("eight_d", "complaint.eight_d", N_("8D report"), _eight_d_fields, _eight_d),
    ComplaintAction("pause", "complaint.acknowledge", N_("Wait for customer"), None, _pause),
    ComplaintAction("resume", "complaint.acknowledge", N_("Customer replied"), None, _resume),
    ComplaintAction("close", "complaint.close", N_("Close"), _close_fields, _close),
    ComplaintAction("reopen", "complaint.reopen", N_("Reopen"), _reason_fields, _reopen),
    ComplaintAction("opinion", "complaint.acknowledge", N_("Customer's opinion"), _opinion_fields, _opinion),
    ComplaintAction("return", "complaint.acknowledge", N_("Log a return"), _return_fields, _return),
)}
