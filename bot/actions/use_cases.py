"""What a person does with a corrective action, whatever messenger they use: press a step
on its card, fill in the step's dialog; the card follows, the owner and the department
head are told."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import card
from bot.actions.lifecycle import (
    CLOSED,
    STEPS,
    StepRefused,
    action_settings,
    department_name,
    may_take,
    owner_for,
    take_step,
)
from bot.actions.terms import AREA_NAMES, STATE_NAMES, STEP_NAMES
from bot.calendar.working_days import WorkingCalendar
from bot.core import outbox
from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.core.deduplication import first_time, once_per_dialog, press_key
from bot.core.i18n import gettext_for, pick
from bot.core.inputs import clean_values, row_id
from bot.core.replies import Reply, Request, Submitted
from bot.core.texts import T, Text, UserError
from bot.core.views import (
    Card,
    Context,
    Field,
    FieldList,
    Form,
    FormField,
    Message,
    Option,
    Paragraph,
    fit_initial_values,
)
from bot.people.callers import require
from bot.people.customers import find_customer
from bot.people.identities import address_of, person_by_address
from bot.scorecard.answers import resolve_customer
from storage.db import insert_ignoring_conflicts
from storage.models import CorrectiveAction, CorrectiveActionStep, Person, PersonRole, Role

REFUSED = T("Your roles do not allow this step.")


def _choice(value: str) -> tuple[int | None, str]:
    try:
        data = json.loads(value)
    except ValueError:
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    return row_id(str(data.get("id", ""))), str(data.get("step") or "")


def _action(session: Session, action_number: int | None) -> CorrectiveAction:
    action = session.get(CorrectiveAction, action_number) if action_number is not None else None
    if action is None:
        raise UserError(T("That corrective action no longer exists."))
    return action


def _person(session: Session, caller: Caller) -> Person:
    person = session.get(Person, caller.person_id) if caller.person_id else None
    if person is None:
        raise UserError(REFUSED)
    return person


def press_step(ctx: AppContext, request: Request, value: str) -> Reply:
    """A step's button: approve and close act at once, the others open the step's dialog."""
    caller = request.caller
    require(ctx, caller)
    action_number, step = _choice(value)
    if step not in STEPS:
        raise UserError(T("No such step on a corrective action."))
    _ = caller._
    with ctx.session() as session:
        action = _action(session, action_number)
        may_take(session, ctx.authorizer, action, step, _person(session, caller))  # refused before typing
        if step in card.AT_ONCE:
            if not first_time(session, press_key(caller.user_id, request.key), ctx.now()):
                return Reply()  # the same press again
            _apply(ctx, session, action, step, _person(session, caller), {})
            return Reply()
        fields = card.step_fields(session, action, step, _, int(action_settings(session).get("due_working_days", 10)))
        title_zh, _sep, title_en = action.title.partition(" / ")
        form = Form(kind="action.step", title=_(STEP_NAMES[step]), submit=_("Save"), close=_("Cancel"),
                    intro=f"#{action.id} · {title_zh if caller.locale == 'zh-CN' else title_en or title_zh}",
                    fields=fields, state={"id": action.id, "step": step})
    return Reply(form=fit_initial_values(form, _))


def submit_step(ctx: AppContext, caller: Caller, state: dict[str, Any], values: dict[str, Any],
                dialog: str) -> Submitted:
    """A step's dialog saved: checked at its fields, recorded, the card and people told."""
    if not caller.known:
        return Submitted(problem=REFUSED)
    values = clean_values(values)
    with ctx.session() as session:
        def attempt() -> Submitted:
            try:
                action = _action(session, row_id(str(state.get("id", ""))))
                if "owner" in values:  # the messenger's user id → the person csatbot knows
                    owner = person_by_address(session, str(values.get("owner") or ""))
                    values["owner"] = str(owner.id) if owner is not None else "unknown"
                with session.begin_nested():
                    _apply(ctx, session, action, str(state.get("step") or ""), _person(session, caller), values)
            except StepRefused as refused:
                return Submitted(errors=refused.errors)
            except UserError as error:
                return Submitted(problem=error.text)
            return Submitted()

        return once_per_dialog(session, dialog, ctx.now(), attempt)


def _apply(ctx: AppContext, session: Session, action: CorrectiveAction, step: str, person: Person,
           values: dict[str, Any]) -> None:
    now = ctx.now()
    done = take_step(session, ctx.authorizer, action, step, person, values, now, ctx.local_today())
    stamp = f"{action.id}:{step}:{now.isoformat()}"
    line = T("{name}: {step} → {state}", name=person.name, step=Text(STEP_NAMES[step]),
             state=Text(STATE_NAMES.get(action.status, action.status)))
    card.publish(session, action, ctx.settings.quality_channel, ctx.locale, now, line, f"action:{stamp}:line")
    _tell(session, action, person, done.step, now, stamp, ctx.locale)


def _tell(session: Session, action: CorrectiveAction, by: Person, step: str, now: dt.datetime, stamp: str,
          company_locale: str) -> None:
    """The owner and the owner's department head hear of each step, in their language,
    with the card (and its buttons) for what comes next."""
    owner = session.get(Person, action.owner_id) if action.owner_id else None
    told: list[Person] = [owner] if owner is not None else []
    if owner is not None and owner.department:
        told += list(session.scalars(select(Person).join(PersonRole).where(
            PersonRole.role_key == "department_head", Person.department == owner.department,
            Person.active.is_(True))))
    for person in {p.id: p for p in told}.values():
        if person.id == by.id or not address_of(person):
            continue
        locale = person.locale or company_locale
        _ = gettext_for(locale)
        text = _("Corrective action #{id}: {name} recorded “{step}”; it is now {state}.").format(
            id=action.id, name=by.name, step=_(STEP_NAMES[step]), state=_(STATE_NAMES[action.status]))
        outbox.enqueue(session, f"action:{stamp}:tell:{person.id}", "dm", address_of(person),
                       Message(text=text, cards=[Card(title="", parts=[Paragraph(text, strong=True)]),
                                                 card.action_card(session, action, locale)]), now)


def publish_new_actions(ctx: AppContext, now: dt.datetime | None = None) -> int:
    """A card in the quality channel for every action a rule or a complaint opened since."""
    with ctx.session() as session:
        return card.publish_unposted(session, ctx.settings.quality_channel, ctx.locale, now or ctx.now())


# --- listing ------------------------------------------------------------------------------------------

LIST_WORDS = {"open": "open", "打开": "open", "未关闭": "open", "overdue": "overdue", "逾期": "overdue",
              "mine": "mine", "我的": "mine"}
SHOWN = 20


def action_rows(session: Session, locale: str, actions: list[CorrectiveAction]) -> list[Field]:
    """One field per action, which a phone shows whole: number, owner, title, due, state."""
    _ = gettext_for(locale)
    owners = {p.id: p.name for p in session.scalars(select(Person).where(Person.id.in_(
        {a.owner_id for a in actions if a.owner_id is not None})))}
    fields = []
    for action in actions[:SHOWN]:
        title_zh, _sep, title_en = action.title.partition(" / ")
        due = _("due {date}").format(date=action.due_date.isoformat()) if action.due_date else _("no due date")
        fields.append(Field(f"#{action.id} · {owners.get(action.owner_id or 0, _('nobody yet'))}",
                            f"{pick(locale, title_zh, title_en or title_zh)} · {due} · "
                            f"{_(STATE_NAMES.get(action.status, action.status))}"))
    return fields


NEW_WORDS = ("new", "新建", "新")


def new_action_form(ctx: AppContext, caller: Caller) -> Form:
    """`/csat action new`: an action a quality engineer opens by hand, routed like the others."""
    require(ctx, caller, "action.manage", T("Your roles do not allow opening corrective actions."))
    _ = caller._
    with ctx.session() as session:
        settings = action_settings(session)
        areas = dict(settings.get("owners", {}))
        options = []
        for area, role_key in areas.items():
            role = session.get(Role, role_key)
            options.append(Option(area, f"{_(AREA_NAMES.get(area, area))} · "
                                        f"{pick(caller.locale, role.name_zh, role.name_en) if role else role_key}"))
        days = int(settings.get("due_working_days", 10))
    return Form(kind="action.new", title=_("New corrective action"), submit=_("Save"), close=_("Cancel"), fields=[
        FormField("title", _("What is to be corrected"), "text", max_length=300),
        FormField("customer", _("Customer"), "customer", required=False, placeholder=_("Type a code or a name")),
        FormField("area", _("Improvement area"), "select", options=options, initial=options[0].value if options
                  else None, hint=_("It decides the department and the owner (000 §4).")),
        FormField("owner", _("Owner (empty: the area's owner)"), "user", required=False),
        FormField("due_working_days", _("Working days to carry it out"), "number", min_value=1, max_value=250,
                  initial=str(days)),
    ])


def submit_new_action(ctx: AppContext, caller: Caller, values: dict[str, Any], dialog: str) -> Submitted:
    """The action opened (once, however often the submission arrives), its card posted."""
    if not caller.known or not ctx.authorizer.allows(caller.roles, "action.manage"):
        return Submitted(problem=T("Your roles do not allow opening corrective actions."))
    values = clean_values(values)
    title = str(values.get("title") or "").strip()
    errors: dict[str, Text] = {}
    if not title:
        errors["title"] = T("Required.")
    elif len(title) > 300:
        errors["title"] = T("At most {n} characters.", n=300)
    days = str(values.get("due_working_days") or "")
    if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= 250:
        errors["due_working_days"] = T("A number of working days from 1 to 250.")
    with ctx.session() as session:
        areas = dict(action_settings(session).get("owners", {}))
        area = str(values.get("area") or "")
        if area not in areas:
            errors["area"] = T("Choose an improvement area.")
        customer = find_customer(session, str(values["customer"])).found if values.get("customer") else None
        if values.get("customer") and customer is None:
            errors["customer"] = T("Unknown customer {value!r}.", value=values["customer"])
        owner = person_by_address(session, str(values["owner"])) if values.get("owner") else None
        if values.get("owner") and (owner is None or not owner.active):
            errors["owner"] = T("Choose a person csatbot knows.")
        if errors:
            return Submitted(errors=errors)
        owner_id = owner.id if owner is not None else owner_for(session, area, customer.owner_id if customer else None)
        key = f"manual:{dialog or ctx.now().isoformat()}"
        opened = insert_ignoring_conflicts(session, CorrectiveAction, [{
            "trigger_key": key, "trigger_kind": "manual", "trigger_detail": {"by": caller.name},
            "customer_id": customer.id if customer else None, "complaint_id": None, "title": title, "area": area,
            "owner_department": department_name(session, area), "owner_id": owner_id,
            "due_date": WorkingCalendar.load(session).nth_working_day_after(ctx.local_today(), int(days)),
            "status": "assigned" if owner_id else "open", "opened_at": ctx.now()}])
        action = session.scalar(select(CorrectiveAction).where(CorrectiveAction.trigger_key == key))
        assert action is not None
        if opened:  # the same submission again opened nothing: nothing more to record
            session.add(CorrectiveActionStep(of_action=action.id, step="assign" if owner_id else "open",
                                             by_id=caller.person_id, at=ctx.now(), text=title,
                                             detail={"due": action.due_date.isoformat() if action.due_date else None}))
            card.publish(session, action, ctx.settings.quality_channel, ctx.locale, ctx.now())
            _tell(session, action, session.get(Person, caller.person_id), "assign", ctx.now(),  # type: ignore[arg-type]
                  f"{action.id}:new", ctx.locale)
    return Submitted()


def actions_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat actions [open | overdue | mine | customer X]`, `/csat action new`."""
    caller = request.caller
    require(ctx, caller)
    _ = caller._
    if words and words[0].lower() in NEW_WORDS:
        return Reply(form=new_action_form(ctx, caller), message=Message(text=_("Opening the dialog…")))
    which = LIST_WORDS.get(words[0].lower(), "customer" if words else "open") if words else "open"
    if which == "customer" and words[0].lower() in ("customer", "客户", "c"):
        words = words[1:]
    today = ctx.local_today()
    with ctx.session() as session:
        query = select(CorrectiveAction).where(CorrectiveAction.status.not_in(CLOSED)).order_by(
            CorrectiveAction.due_date.is_(None), CorrectiveAction.due_date, CorrectiveAction.id)
        label = _("Open corrective actions")
        if which == "overdue":
            query = query.where(CorrectiveAction.due_date < today)
            label = _("Overdue corrective actions")
        elif which == "mine":
            query = query.where(CorrectiveAction.owner_id == caller.person_id)
            label = _("My corrective actions")
        elif which == "customer":
            found = resolve_customer(session, caller, " ".join(words), None)
            if isinstance(found, Message):
                return Reply(message=found)
            query = query.where(CorrectiveAction.customer_id == found.id)
            label = _("Corrective actions of {name}").format(name=pick(caller.locale, found.name_zh, found.name_en))
        actions = list(session.scalars(query))
        parts: list = [FieldList(action_rows(session, caller.locale or ctx.locale, actions))] if actions else [
            Paragraph(_("None."))]
    if len(actions) > SHOWN:
        parts.append(Context(_("First {n} of {total} shown; `csatbot actions list` lists them all.").format(
            n=SHOWN, total=len(actions))))
    text = f"{label} ({len(actions)})"
    return Reply(message=Message(text=text, cards=[Card(title=text, parts=parts)]))


def my_actions_card(session: Session, caller: Caller) -> Card | None:
    """App Home: the open actions the person owns, with the card of the first for its next step."""
    if caller.person_id is None:
        return None
    actions = list(session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.owner_id == caller.person_id, CorrectiveAction.status.not_in(CLOSED))
        .order_by(CorrectiveAction.due_date.is_(None), CorrectiveAction.due_date, CorrectiveAction.id)))
    if not actions:
        return None
    _ = caller._
    parts: list = [FieldList(action_rows(session, caller.locale or "zh-CN", actions))]
    if len(actions) > SHOWN:
        parts.append(Context(_("First {n} of {total} shown; `/csat actions mine` lists them.").format(
            n=SHOWN, total=len(actions))))
    return Card(title=_("My corrective actions ({n})").format(n=len(actions)), parts=parts)
