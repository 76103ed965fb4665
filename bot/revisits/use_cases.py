"""Recording a quality revisit, whatever messenger: the button in the reminder opens the
dialog; problems found can open a corrective action, routed like any other."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from bot.actions import card as action_card
from bot.actions.lifecycle import department_name, owner_for
from bot.calendar.working_days import WorkingCalendar
from bot.complaints.intake import complaint_form
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.deduplication import once_per_dialog
from bot.core.inputs import clean_values, row_id
from bot.core.replies import Reply, Request, Submitted
from bot.core.texts import T, UserError
from bot.core.views import (
    Actions,
    Button,
    Card,
    FieldList,
    Form,
    FormField,
    Message,
    Option,
    Paragraph,
    fit_initial_values,
)
from bot.people.callers import require
from bot.people.customers import customer_label, find_customer
from bot.revisits.visits import DUE_WORKING_DAYS, REASONS, check_record, open_revisit, record_fields, revisit_summary
from storage.db import insert_ignoring_conflicts
from storage.models import CorrectiveAction, Customer, Revisit

REFUSED = T("Only the customer's owner or a quality engineer records its revisit.")


def _may_record(ctx: AppContext, caller: Caller, customer: Customer | None) -> bool:
    return caller.known and (customer is not None and customer.owner_id == caller.person_id
                             or ctx.authorizer.allows(caller.roles, "action.manage"))


def press_record(ctx: AppContext, request: Request, value: str) -> Reply:
    caller = request.caller
    require(ctx, caller)
    _ = caller._
    with ctx.session() as session:
        revisit = session.get(Revisit, row_id(value)) if row_id(value) is not None else None
        if revisit is None:
            raise UserError(T("That revisit no longer exists."))
        if revisit.status == "recorded":
            return Reply.text(_("This revisit is recorded already."))
        if not _may_record(ctx, caller, session.get(Customer, revisit.customer_id)):
            raise UserError(REFUSED)
        summary = revisit_summary(session, revisit, caller.locale or ctx.locale)
        intro = " · ".join(f"{f.label}: {f.value}" for f in summary)
        form = Form(kind="revisit.record", title=_("Quality revisit"), submit=_("Save"), close=_("Cancel"),
                    intro=intro, fields=record_fields(_, ctx.local_today()), state={"id": revisit.id})
    return Reply(form=fit_initial_values(form, _))


def submit_record(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                  dialog: str) -> Submitted:
    values = clean_values(values)
    with ctx.session() as session:
        revisit = session.get(Revisit, row_id(str(state.get("id", "")))) if row_id(str(state.get("id", ""))) else None
        if revisit is None:
            return Submitted(problem=T("That revisit no longer exists."))
        customer = session.get(Customer, revisit.customer_id)
        if not _may_record(ctx, caller, customer):
            return Submitted(problem=REFUSED)
        return once_per_dialog(session, dialog, ctx.now(),
                               lambda: _record(ctx, session, caller, revisit, customer, values))


def _record(ctx: AppContext, session: Any, caller: Caller, revisit: Revisit, customer: Customer | None,
            values: dict[str, Any]) -> Submitted:
    """The visit on record; problems found can open a corrective action."""
    if revisit.status == "recorded":
        return Submitted(problem=T("This revisit is recorded already."))
    data, errors = check_record(values, ctx.local_today())
    if errors:
        return Submitted(errors=errors)
    revisit.visited_on, revisit.met_whom = data["visited_on"], data["met_whom"]
    revisit.customer_said, revisit.problems = data["customer_said"], data["problems"]
    revisit.status, revisit.recorded_at, revisit.recorded_by_id = "recorded", ctx.now(), caller.person_id
    _ = caller._
    lines = [_("Revisit recorded. Thank you.")]
    if data["follow_up"] == "action" and customer is not None:
        action = _open_action(ctx, session, revisit, customer)
        lines.append(_("Corrective action #{id} is opened for the problems found.").format(id=action.id))
    text = " ".join(lines)
    parts: list = [Paragraph(text), FieldList(revisit_summary(session, revisit, caller.locale or ctx.locale))]
    if revisit.problems and ctx.authorizer.allows(caller.roles, "complaint.log"):
        parts.append(Actions([Button(_("Log the problems as a complaint"), "revisit.complaint", str(revisit.id))]))
    outbox.enqueue(session, f"revisit:{revisit.id}:recorded", "dm", caller.user_id, Message(
        text=text, cards=[Card(title="", parts=parts)]), ctx.now())
    return Submitted()


def press_log_complaint(ctx: AppContext, request: Request, value: str) -> Reply:
    """*Log the problems as a complaint*: the complaint dialog, filled in from the revisit."""
    caller = request.caller
    require(ctx, caller, "complaint.log")
    with ctx.session() as session:
        revisit = session.get(Revisit, row_id(value)) if row_id(value) is not None else None
        customer = session.get(Customer, revisit.customer_id) if revisit is not None else None
        if revisit is None or customer is None:
            raise UserError(T("That revisit no longer exists."))
        prefill = {"customer": customer.code, "symptom": f"{revisit.product}: {revisit.problems or ''}".strip()}
        form = complaint_form(session, caller.locale or ctx.locale, ctx.now(), prefill)
    return Reply(form=form)


OWE_REFUSED = T("Only quality engineers and sales managers note a revisit owed.")


def new_revisit_form(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat revisit new [customer]`: a revisit owed, noted by hand."""
    caller = request.caller
    require(ctx, caller, "scorecard.record_event", OWE_REFUSED)
    _ = caller._
    with ctx.session() as session:
        rest = words[1:] if words and words[0].lower() in ("new", "新建", "新") else words
        found = find_customer(session, " ".join(rest)).found if rest else None
        due = WorkingCalendar.load(session).nth_working_day_after(ctx.local_today(), DUE_WORKING_DAYS)
    form = Form(kind="revisit.new", title=_("Quality revisit owed"), submit=_("Save"), close=_("Cancel"), fields=[
        FormField("customer", _("Customer"), "customer", initial=found.code if found else None,
                  options=[Option(found.code, customer_label(found, caller.locale))] if found else [],
                  placeholder=_("Type a code or a name")),
        FormField("product", _("Product"), "text", max_length=200),
        FormField("reason", _("Why"), "select", options=[Option(k, _(v)) for k, v in REASONS.items()]),
        FormField("due", _("Due"), "date", initial=due.isoformat()),
        FormField("note", _("Note"), "multiline", required=False, max_length=2000)])
    return Reply(form=form, message=Message(text=_("Opening the dialog…")))


def submit_new_revisit(ctx: AppContext, caller: Caller, values: dict[str, Any], dialog: str) -> Submitted:
    if not caller.known or not ctx.authorizer.allows(caller.roles, "scorecard.record_event"):
        return Submitted(problem=OWE_REFUSED)
    values = clean_values(values)
    errors = {}
    with ctx.session() as session:
        customer = find_customer(session, str(values.get("customer") or "")).found if values.get("customer") else None
        if customer is None:
            errors["customer"] = T("Choose a customer.")
        product = str(values.get("product") or "").strip()
        if not product or len(product) > 200:
            errors["product"] = T("Name the product.")
        reason = str(values.get("reason") or "")
        if reason not in REASONS:
            errors["reason"] = T("Choose why the revisit is owed.")
        try:
            due = dt.date.fromisoformat(str(values.get("due") or ""))
        except ValueError:
            errors["due"] = T("Choose the day it is due.")
        if errors:
            return Submitted(errors=errors)
        assert customer is not None
        open_revisit(session, f"dialog:{dialog or ctx.now().isoformat()}", customer.id, product, reason, due, "dialog",
                     ctx.now(), str(values.get("note") or "").strip()[:2000] or None)
    return Submitted()


def _open_action(ctx: AppContext, session: Any, revisit: Revisit, customer: Customer) -> CorrectiveAction:
    area = "product_quality"
    owner = owner_for(session, area, customer.owner_id)
    problems = (revisit.problems or "")[:120]
    key = f"revisit:{revisit.id}"
    insert_ignoring_conflicts(session, CorrectiveAction, [{
        "trigger_key": key, "trigger_kind": "revisit", "trigger_detail": {"revisit": revisit.id,
                                                                         "product": revisit.product},
        "customer_id": customer.id, "complaint_id": None, "area": area,
        "owner_department": department_name(session, area), "owner_id": owner,
        "title": f"{customer.name_zh}：质量回访发现问题（{revisit.product}）：{problems} / {customer.name_en}: "
                 f"quality revisit found problems ({revisit.product}): {problems}",
        "due_date": WorkingCalendar.load(session).nth_working_day_after(ctx.local_today(), 10),
        "status": "assigned" if owner else "open", "opened_at": ctx.now()}])
    action = session.scalar(select(CorrectiveAction).where(CorrectiveAction.trigger_key == key))
    action_card.publish(session, action, ctx.settings.quality_channel, ctx.locale, ctx.now())
    return action  # type: ignore[no-any-return]
