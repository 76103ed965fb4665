"""A corrective action's card in the quality channel: what opened it, who carries it out,
its state, what each step recorded and the button for the next step; posted once,
updated in place, a line in its thread for each step. The dialogs each button opens."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import METHODS, QUALITY_INFO_REPLY, steps_of
from bot.actions.terms import METHOD_NAMES, STATE_NAMES, STEP_NAMES
from bot.core import outbox
from bot.core.i18n import Gettext, gettext_for, pick
from bot.core.texts import Text
from bot.core.views import Actions, Button, Card, Context, Field, FieldList, FormField, Message, Option, Paragraph
from bot.people.identities import address_of
from storage.models import Complaint, CorrectiveAction, Customer, Person

# the buttons each state offers, in order; approve and close act at once, the others open a dialog
NEXT_STEPS = {"open": ("assign",), "assigned": ("analyse", "assign"), "rejected": ("analyse",),
              "analysed": ("approve", "reject", "analyse"), "approved": ("implement",), "implemented": ("verify",),
              "verified": ("close",), "closed": ()}
AT_ONCE = ("approve", "close")
REPLY_NEXT = {"open": ("assign",), "assigned": ("confirm", "assign")}


def card_key(action_number: int) -> str:
    return f"action:{action_number}:card"


def action_card(session: Session, action: CorrectiveAction, locale: str, buttons: bool = True,
                steps: list[dict[str, Any]] | None = None) -> Card:
    """`steps`: the action's steps when the caller loaded many actions' at once."""
    _ = gettext_for(locale)
    owner = session.get(Person, action.owner_id) if action.owner_id else None
    customer = session.get(Customer, action.customer_id) if action.customer_id else None
    complaint = session.get(Complaint, action.complaint_id) if action.complaint_id else None
    title_zh, _sep, title_en = action.title.partition(" / ")
    title = f"#{action.id} · {pick(locale, title_zh, title_en or title_zh)}"
    department = action.owner_department or "—"
    if " / " in department:
        department = pick(locale, *department.split(" / ", 1))
    fields = [Field(_("State"), _(STATE_NAMES.get(action.status, action.status))),
              Field(_("Owner"), owner.name if owner else _("nobody yet")),
              Field(_("Department"), department),
              Field(_("Due"), action.due_date.isoformat() if action.due_date else "—")]
    if customer is not None:
        fields.append(Field(_("Customer"), f"{customer.code} · {pick(locale, customer.name_zh, customer.name_en)}"))
    if complaint is not None:
        fields.append(Field(_("Complaint"), complaint.number))
    if action.loops:
        fields.append(Field(_("Sent back after verification"), _("{n} time(s)").format(n=action.loops)))
    parts: list = [FieldList(fields)]
    latest: dict[str, dict[str, Any]] = {}
    for step in steps if steps is not None else steps_of(session, action.id):
        latest[step["step"]] = step
    if "analyse" in latest:
        detail = latest["analyse"]["detail"]
        parts.append(FieldList([
            Field(_("Root cause"), str(detail.get("root_cause") or "")),
            Field(_("Method"), _(METHOD_NAMES.get(str(detail.get("method")), str(detail.get("method"))))),
            Field(_("Containment"), str(detail.get("containment") or "")),
            Field(_("Measures"), str(detail.get("measures") or ""))]))
    if "implement" in latest and action.status in ("implemented", "verified", "closed"):
        detail = latest["implement"]["detail"]
        parts.append(FieldList([Field(_("Carried out"), f"{detail.get('done_on')}: {detail.get('done')}"),
                                Field(_("Evidence"), str(detail.get("evidence") or ""))]))
    if action.status in ("verified", "closed") and "verify" in latest:
        detail = latest["verify"]["detail"]
        parts.append(FieldList([Field(_("Verified"), f"{detail.get('how')} · {detail.get('data')} · "
                                                     f"{detail.get('period')}")]))
    if action.management_review:
        parts.append(Context(_("Goes to management review.")))
    if action.trigger_kind == QUALITY_INFO_REPLY and action.trigger_detail.get("reply"):
        parts.append(FieldList([Field(_("Quality information reply"), str(action.trigger_detail["reply"]))]))
    next_steps = (REPLY_NEXT.get(action.status, ()) if action.trigger_kind == QUALITY_INFO_REPLY
                  else NEXT_STEPS.get(action.status, ()))
    if buttons and next_steps:
        parts.append(Actions([Button(_(STEP_NAMES[s]), "action.step", json.dumps({"id": action.id, "step": s}),
                                     "primary" if index == 0 else None)
                              for index, s in enumerate(next_steps)]))
    return Card(title=title, parts=parts)


def publish(session: Session, action: CorrectiveAction, channel: str, locale: str, now: dt.datetime,
            line: Text | None = None, line_key: str | None = None) -> None:
    """The card posted once, or updated in place, and a line in its thread."""
    if not channel:
        return
    _ = gettext_for(locale)
    card = action_card(session, action, locale)
    message = Message(text=card.title, cards=[card])
    key = card_key(action.id)
    if not outbox.exists(session, key):
        outbox.enqueue(session, key, "post", channel, message, now)
    else:
        outbox.update_in_place(session, key, f"{now.isoformat()}:{line_key or ''}", channel, message, now)
    if line is not None:
        text = line.render(_)
        outbox.enqueue(session, line_key or f"{key}:line:{now.isoformat()}", "post", channel,
                       Message(text=text, cards=[Card(title="", parts=[Paragraph(text)])]), now, thread_of=key)


def publish_unposted(session: Session, channel: str, locale: str, now: dt.datetime) -> int:
    """Cards for the open actions that have none yet (a rule or a complaint opened them):
    derived from rows, so a restart or a second replica posts each once."""
    if not channel:
        return 0
    numbers = list(session.scalars(select(CorrectiveAction.id).where(CorrectiveAction.status != "closed")
                                   .order_by(CorrectiveAction.id)))
    posted = outbox.queued(session, [card_key(n) for n in numbers])
    unposted = [n for n in numbers if card_key(n) not in posted]
    for action in session.scalars(select(CorrectiveAction).where(CorrectiveAction.id.in_(unposted))
                                  .order_by(CorrectiveAction.id)) if unposted else ():
        publish(session, action, channel, locale, now)
    return len(unposted)


def step_fields(session: Session, action: CorrectiveAction, step: str, _: Gettext, default_days: int
                ) -> list[FormField]:
    """The dialog of a step: what the procedure asks it to record."""
    if step == "assign":
        owner = session.get(Person, action.owner_id) if action.owner_id else None
        return [FormField("owner", _("Owner"), "user", initial=address_of(owner) if owner else None),
                FormField("department", _("Department"), "text", required=False, max_length=200,
                          initial=action.owner_department),
                FormField("due_working_days", _("Working days to carry it out"), "number", min_value=1,
                          max_value=250, initial=str(default_days))]
    if step == "analyse":
        return [FormField("root_cause", _("Root cause"), "multiline", max_length=4000),
                FormField("method", _("Method"), "select",
                          options=[Option(m, _(METHOD_NAMES[m])) for m in METHODS]),
                FormField("containment", _("Containment already taken"), "multiline", max_length=2000),
                FormField("measures", _("Measures proposed"), "multiline", max_length=4000)]
    if step == "confirm":
        return [FormField("confirmed", _("Did the customer confirm the reply?"), "select", options=[
                    Option("yes", _("yes: close it")), Option("no", _("no: discuss it again"))]),
                FormField("customer_answer", _("The customer's answer"), "multiline", max_length=4000)]
    if step == "reject":
        return [FormField("reason", _("Why it is sent back"), "multiline", max_length=2000)]
    if step == "implement":
        return [FormField("done", _("What was done"), "multiline", max_length=4000),
                FormField("done_on", _("Done on"), "date"),
                FormField("evidence", _("Evidence (a link or a document's name)"), "text", max_length=1000)]
    if step == "verify":
        return [FormField("effective", _("Effective?"), "select", options=[
                    Option("yes", _("yes: close it after this")), Option("no", _("no: back to analysis"))]),
                FormField("how", _("How it was verified"), "multiline", max_length=2000),
                FormField("data", _("On what data"), "text", max_length=2000),
                FormField("period", _("Over which period"), "text", max_length=200),
                FormField("product", _("Product whose first batch after the improvement is revisited"), "text",
                          required=False, max_length=200,
                          hint=_("Effective and a product named: its quality revisit falls due.")),
                ]
    return []
