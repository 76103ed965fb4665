"""The life of a corrective action (SPEC §6; 001 §5.6.3 B, 003 6.2–6.4, 004 §7.1): routed to
the improvement owner of its area, assigned, analysed, approved by the management
representative (or sent back), implemented, verified effective by a quality engineer (or
sent back to analysis, the loop counted), closed. Each step is a row: who, when, what.

The rules live here so every messenger and the command line obey the same ones: the step
must follow from the state, the person must hold the step's role, nobody approves or
verifies their own action."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.actions.terms import STATE_NAMES, STEP_NAMES
from bot.calendar.working_days import WorkingCalendar
from bot.core.roles import Authorizer
from bot.core.stored_settings import setting
from bot.core.texts import T, Text, UserError
from bot.revisits.visits import open_revisit
from storage.models import CorrectiveAction, CorrectiveActionStep, Person, PersonRole, Role

STATES = ("open", "assigned", "analysed", "approved", "implemented", "verified", "closed", "rejected")
METHODS = ("five_why", "fishbone", "spc", "returned_parts")
CLOSED = ("verified", "closed")


@dataclass(frozen=True)
class Step:
    key: str
    after: tuple[str, ...]  # the states it may follow
    permission: str | None  # None: the action's owner (or whoever may manage actions)
    needs: tuple[str, ...]  # the fields it records


STEPS = {
    "assign": Step("assign", ("open", "assigned"), "action.manage", ("owner",)),
    "analyse": Step("analyse", ("assigned", "rejected", "analysed"), None,
                    ("root_cause", "method", "containment", "measures")),
    "approve": Step("approve", ("analysed",), "action.approve", ()),
    "reject": Step("reject", ("analysed",), "action.approve", ("reason",)),
    "implement": Step("implement", ("approved",), None, ("done", "done_on", "evidence")),
    "verify": Step("verify", ("implemented",), "action.verify", ("effective", "how", "data", "period")),
    "close": Step("close", ("verified",), "action.verify", ()),
    # a quality information reply: the customer's answer, confirmed (closed) or not (asked again)
    "confirm": Step("confirm", ("open", "assigned"), None, ("confirmed", "customer_answer")),
}
QUALITY_INFO_REPLY = "quality_info_reply"
LIMITS = {"customer_answer": 4000, "root_cause": 4000, "containment": 2000, "measures": 4000, "reason": 2000,
          "done": 4000, "evidence": 1000, "how": 2000, "data": 2000, "period": 200}


def action_settings(session: Session) -> dict[str, Any]:
    return setting(session, "actions")


def area_of(session: Session, kind: str, detail: dict[str, Any], cause: str | None = None) -> str:
    """The improvement area an action belongs to: the scorecard category that was abnormal,
    the complaint's cause category, else the default."""
    areas = dict(action_settings(session).get("areas", {}))
    if kind == "scorecard_streak" and f"category.{detail.get('category')}" in areas:
        return str(areas[f"category.{detail.get('category')}"])
    if cause and f"cause.{cause}" in areas:
        return str(areas[f"cause.{cause}"])
    return str(areas.get("default", "product_quality"))


def owner_for(session: Session, area: str, prefer: int | None = None) -> int | None:
    """`prefer` (the customer's owner) when they hold the area's role; else the first active
    person who does; failing that a quality engineer, so no action is left without an owner."""
    role = dict(action_settings(session).get("owners", {})).get(area)
    if prefer is not None and role and session.scalar(select(PersonRole.person_id).join(Person).where(
            PersonRole.person_id == prefer, PersonRole.role_key == role, Person.active.is_(True))) is not None:
        return prefer
    for key in (role, "quality_engineer"):
        if key is None:
            continue
        found = session.scalar(select(Person.id).join(PersonRole).where(PersonRole.role_key == key,
                                                                        Person.active.is_(True)).order_by(Person.id))
        if found is not None:
            return int(found)
    return None


def due_in_working_days(session: Session, now: dt.datetime, tz: ZoneInfo | None = None) -> dt.date:
    """The due date of a new action: the configured working days from today (company time)."""
    from bot.complaints.deadlines import COMPANY_TZ

    today = now.astimezone(tz or COMPANY_TZ).date()
    days = int(action_settings(session).get("due_working_days", 10))
    return WorkingCalendar.load(session).nth_working_day_after(today, max(1, days))


def department_name(session: Session, area: str) -> str | None:
    """The improvement owner's role, in both languages: the record outlives whoever reads it."""
    role_key = dict(action_settings(session).get("owners", {})).get(area)
    role = session.get(Role, role_key) if role_key else None
    return f"{role.name_zh} / {role.name_en}" if role is not None else None


def route(session: Session, kind: str, detail: dict[str, Any], cause: str | None = None,
          customer_owner: int | None = None) -> tuple[str, int | None]:
    area = area_of(session, kind, detail, cause)
    return area, owner_for(session, area, customer_owner)


@dataclass
class StepDone:
    action: CorrectiveAction
    step: str
    before: str


def take_step(session: Session, authorizer: Authorizer, action: CorrectiveAction, step_key: str,
              person: Person, values: dict[str, Any], now: dt.datetime, today: dt.date) -> StepDone:
    """One step, checked against the state, the person's roles and the procedure's rules;
    field problems are raised together, keyed by field."""
    step = may_take(session, authorizer, action, step_key, person)
    errors = _check(session, step, values, today)
    if errors:
        raise StepRefused(errors)
    before = action.status
    # the step claims the row: of two presses or submissions at once, the second finds the
    # state moved on (it waits for the first's lock) and is refused, so no step is taken twice
    claimed = session.execute(update(CorrectiveAction).where(
        CorrectiveAction.id == action.id, CorrectiveAction.status == before).values(status=before)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise UserError(T("Someone else took a step on this action meanwhile: open its card again."))
    session.refresh(action)
    detail = {k: values[k] for k in step.needs if k in values and k not in ("owner",)}
    text = None
    if step_key == "assign":
        owner = session.get(Person, int(values["owner"]))
        assert owner is not None
        action.owner_id = owner.id
        if values.get("department"):
            action.owner_department = str(values["department"])[:200]
        days = int(values.get("due_working_days") or action_settings(session).get("due_working_days", 10))
        action.due_date = WorkingCalendar.load(session).nth_working_day_after(today, days)
        detail = {"owner": owner.name, "due": action.due_date.isoformat(), "department": action.owner_department}
        action.status = "assigned"
    elif step_key == "analyse":
        action.status = "analysed"
        text = str(values["root_cause"])
    elif step_key == "approve":
        action.status = "approved"
    elif step_key == "reject":
        action.status = "rejected"
        text = str(values["reason"])
    elif step_key == "implement":
        action.status = "implemented"
        text = str(values["done"])
    elif step_key == "verify":
        effective = values["effective"] in (True, "yes", "true", "1", "effective")
        detail["effective"] = effective
        if effective:
            action.status = "verified"
            action.verified_by_id, action.verified_at = person.id, now
            action.verification = str(values["how"])
            product = str(values.get("product") or "").strip()
            if product and action.customer_id is not None:  # the first batch after an improvement is revisited
                detail["product"] = product
                open_revisit(session, f"action:{action.id}", action.customer_id, product, "after_improvement",
                             WorkingCalendar.load(session).nth_working_day_after(today, 10), "action", now,
                             action=action.id)
        else:
            action.status = "assigned"  # back to analysis
            action.loops = (action.loops or 0) + 1
        text = str(values["how"])
    elif step_key == "close":
        action.status = "closed"
        action.closed_at = now
    elif step_key == "confirm":
        confirmed = values["confirmed"] in (True, "yes", "true", "1")
        detail["confirmed"] = confirmed
        text = str(values["customer_answer"])
        if confirmed:
            action.status, action.closed_at, action.verification = "closed", now, text
        else:
            action.status = "assigned"  # the reply is discussed again
            action.loops = (action.loops or 0) + 1
    session.add(CorrectiveActionStep(of_action=action.id, step=step_key, by_id=person.id, at=now, text=text,
                                     detail=detail))
    session.flush()
    return StepDone(action, step_key, before)


def may_take(session: Session, authorizer: Authorizer, action: CorrectiveAction, step_key: str,
             person: Person) -> Step:
    """The step, if it follows from the action's state and the person may take it; else why not."""
    step = STEPS.get(step_key)
    if step is None:
        raise UserError(T("Unknown step {step!r}.", step=step_key))
    if (action.trigger_kind == QUALITY_INFO_REPLY) != (step_key == "confirm") and step_key != "assign":
        raise UserError(T("This step does not belong to this kind of action."))
    if action.status not in step.after:
        raise UserError(T("This action is {state}: {step} cannot follow.",
                          state=Text(STATE_NAMES.get(action.status, action.status)),
                          step=Text(STEP_NAMES.get(step_key, step_key))))
    roles = person.role_keys
    if step.permission is not None and not authorizer.allows(roles, step.permission):
        raise UserError(T("Your roles do not allow this step."))
    if step.permission is None and person.id != action.owner_id and not authorizer.allows(roles, "action.manage"):
        raise UserError(T("Only the action's owner carries out this step."))
    if step_key in ("approve", "reject") and person.id in _doers(session, action):
        raise UserError(T("Nobody approves their own action, nor an analysis they wrote."))
    if step_key in ("verify", "close") and person.id in _doers(session, action):
        raise UserError(T("Nobody verifies their own action: another quality engineer verifies it."))
    return step


class StepRefused(UserError):
    """What is wrong with which field (a dialog shows each at its field)."""

    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def _doers(session: Session, action: CorrectiveAction) -> set[int]:
    """Whose action it is: its owner and whoever analysed or implemented it."""
    doers = {action.owner_id} if action.owner_id is not None else set()
    doers |= {by for by in session.scalars(select(CorrectiveActionStep.by_id).where(
        CorrectiveActionStep.of_action == action.id, CorrectiveActionStep.step.in_(("analyse", "implement"))))
        if by is not None}
    return doers


def _check(session: Session, step: Step, values: dict[str, Any], today: dt.date) -> dict[str, Text]:
    errors: dict[str, Text] = {}
    for field in step.needs:
        raw = values.get(field)
        if raw in (None, "") and field not in ("effective", "confirmed"):
            errors[field] = T("Required.")
        elif isinstance(raw, str) and field in LIMITS and len(raw) > LIMITS[field]:
            errors[field] = T("At most {n} characters.", n=LIMITS[field])
    if "method" in step.needs and values.get("method") and values["method"] not in METHODS:
        errors["method"] = T("Choose a method: {methods}.", methods=", ".join(METHODS))
    if "confirmed" in step.needs and values.get("confirmed") in (None, ""):
        errors["confirmed"] = T("Say whether the customer confirmed it.")
    if "effective" in step.needs and values.get("effective") in (None, ""):
        errors["effective"] = T("Say whether it was effective.")
    if "done_on" in step.needs and values.get("done_on"):
        try:
            done_on = dt.date.fromisoformat(str(values["done_on"]))
        except ValueError:
            errors["done_on"] = T("{value!r} is not a date (YYYY-MM-DD).", value=values["done_on"])
        else:
            if done_on > today:
                errors["done_on"] = T("It is in the future.")
    if "owner" in step.needs and values.get("owner") not in (None, ""):
        owner_text = str(values["owner"])
        owner = session.get(Person, int(owner_text)) if owner_text.isascii() and owner_text.isdigit() else None
        if owner is None or not owner.active:
            errors["owner"] = T("Choose a person csatbot knows.")
    if values.get("due_working_days") not in (None, ""):
        text = str(values["due_working_days"])
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 250:
            errors["due_working_days"] = T("A number of working days from 1 to 250.")
    return errors


def steps_of(session: Session, action_number: int) -> list[dict[str, Any]]:
    return steps_by_action(session, [action_number]).get(action_number, [])


def steps_by_action(session: Session, numbers: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The steps of many actions in one query, each action's in the order they happened."""
    result: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(numbers), 500):
        rows = session.execute(select(CorrectiveActionStep, Person.name).outerjoin(
            Person, Person.id == CorrectiveActionStep.by_id).where(
            CorrectiveActionStep.of_action.in_(numbers[start:start + 500]))
            .order_by(CorrectiveActionStep.at, CorrectiveActionStep.id))
        for step, name in rows:
            result.setdefault(step.of_action, []).append(
                {"step": step.step, "by": name, "at": step.at.isoformat(), "text": step.text, "detail": step.detail})
    return result
