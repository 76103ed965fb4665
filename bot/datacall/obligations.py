"""Who owes which figures for a month (SPEC §1), and when they open and fall due on the
working calendar. Derived from people, roles, customers and delegations every time, so
the jobs that chase people can run anywhere, any number of times."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.periods import add_months, current_period, month_start
from bot.core.stored_settings import data_call_settings
from bot.datacall.figures import series_key
from bot.people.identities import address_of
from bot.scorecard import kpis
from storage.models import (
    Customer,
    FigureSubmission,
    Metric,
    Person,
    PersonRole,
    RoleDelegation,
)

# --- when -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallDates:
    period: str  # YYYY-MM, the month the figures describe
    opens: dt.date
    remind: dt.date  # N working days before the due date
    due: dt.date

    def phase(self, today: dt.date) -> str:
        if today < self.opens:
            return "not_open"
        if today > self.due:
            return "overdue"
        return "open"


def call_dates(calendar: WorkingCalendar, period: str, settings: dict[str, Any]) -> CallDates:
    """Month M opens on the Nth working day of M+1 and is due on the Mth (5th by default)."""
    following = month_start(add_months(period, 1))
    opens = calendar.nth_working_day_of_month(following.year, following.month, settings["open_working_day"])
    due = calendar.nth_working_day_of_month(following.year, following.month, settings["due_working_day"])
    before = settings["remind_working_days_before_due"]
    remind = calendar.nth_working_day_before(due, before) if before > 0 else due
    return CallDates(period, opens, max(remind, opens), due)


def close_date(calendar: WorkingCalendar, period: str, settings: dict[str, Any]) -> dt.date:
    """A month closes when the next month's call opens: a KPI figure missing by then is
    missing, and its score is no longer provisional."""
    return call_dates(calendar, add_months(period, 1), settings).opens


def last_due_month(session: Session, today: dt.date) -> str:
    """The latest month whose figures were due before `today`: the month scores and answers
    default to, since a month still being collected would be judged on what is missing."""
    calendar = WorkingCalendar.load(session)
    settings = data_call_settings(session)
    month = add_months(f"{today.year:04d}-{today.month:02d}", -1)
    while call_dates(calendar, month, settings).due >= today:
        month = add_months(month, -1)
    return month


def in_collection(session: Session, month: str, today: dt.date) -> CallDates | None:
    """The month's call dates while its figures are still being collected, else None."""
    dates = call_dates(WorkingCalendar.load(session), month, data_call_settings(session))
    return dates if dates.due >= today else None


def next_call_opening(session: Session, now: dt.datetime, at: dt.time) -> dt.datetime:
    """`at` on the day the next monthly call opens (`now` in the company time zone): this
    month's opening if it is still ahead, else next month's."""
    calendar, settings = WorkingCalendar.load(session), data_call_settings(session)
    first_of_next = (now.date().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    for day in (now.date(), first_of_next):
        opening = dt.datetime.combine(call_dates(calendar, current_period(day), settings).opens, at, now.tzinfo)
        if opening > now:
            break
    return opening


@dataclass(frozen=True)
class Item:
    metric: str
    customer_id: int | None

    @property
    def key(self) -> str:
        return f"{self.metric}|{self.customer_id if self.customer_id is not None else '-'}"


@dataclass
class Obligation:
    """What one person is asked for in one month, with the roles they answer for."""

    person_id: int
    slack_user_id: str | None
    name: str
    locale: str | None
    roles: dict[str, int] = field(default_factory=dict)  # role -> person whose role it is (self or delegator)
    items: dict[Item, int] = field(default_factory=dict)  # item -> on whose behalf (person id)
    submitted: set[Item] = field(default_factory=set)
    optional: set[Item] = field(default_factory=set)  # in the dialog, but nobody is chased for them
    address: str = ""  # where their call and reminders go: Slack, or WeCom for a person in WeCom only

    @property
    def outstanding(self) -> list[Item]:
        return [i for i in self.items if i not in self.submitted and i not in self.optional]

    @property
    def required(self) -> int:
        return len(self.items) - len(self.optional)

    @property
    def handed_in(self) -> int:
        return len([i for i in self.submitted if i not in self.optional])

    @property
    def done(self) -> bool:
        return bool(self.items) and not self.outstanding


def obligations(session: Session, period: str, on: dt.date) -> dict[int, Obligation]:
    """Every person called for `period`: their roles' figures in the monthly call, per
    customer they own (owner roles) or for every customer (other roles), company-wide ones
    once; a role handed to a deputy on `on` is the deputy's to answer."""
    settings = data_call_settings(session)
    owner_roles = set(settings.get("customer_owner_roles", ["sales_manager"]))
    optional_metrics = set(settings.get("optional_metrics", []))
    metrics_by_role: dict[str, list[Metric]] = defaultdict(list)
    for metric in session.scalars(select(Metric).where(Metric.active.is_(True), Metric.in_monthly_call.is_(True))
                                  .order_by(Metric.sort_order)):
        metrics_by_role[metric.owner_role].append(metric)
    people = {p.id: p for p in session.scalars(select(Person).where(Person.active.is_(True)))}
    roles_of: dict[int, list[str]] = defaultdict(list)
    for person_id, role in session.execute(select(PersonRole.person_id, PersonRole.role_key)):
        if person_id in people and role in metrics_by_role:
            roles_of[person_id].append(role)
    customers = list(session.execute(select(Customer.id, Customer.owner_id).where(Customer.active.is_(True))
                                     .order_by(Customer.code)))
    owned: dict[int, list[int]] = defaultdict(list)
    for customer_id, owner_id in customers:
        if owner_id is not None:
            owned[owner_id].append(customer_id)
    every_customer = [c for c, _o in customers]
    register = kpis.Register.load(session)
    registered = {cid: register.in_force(cid, period) for cid in register.customer_ids if register.covers(cid, period)}
    deputies: dict[tuple[int, str], int] = {}
    for delegation in session.scalars(select(RoleDelegation).where(RoleDelegation.start_date <= on,
                                                                   RoleDelegation.end_date >= on)):
        if delegation.deputy_id in people:
            deputies[(delegation.person_id, delegation.role_key)] = delegation.deputy_id
    result: dict[int, Obligation] = {}
    for owner_id, roles in roles_of.items():
        for role in roles:
            assignee_id = deputies.get((owner_id, role), owner_id)
            assignee = people[assignee_id]
            duty = result.get(assignee_id)
            if duty is None:
                duty = result[assignee_id] = Obligation(assignee_id, assignee.slack_user_id, assignee.name,
                                                        assignee.locale, address=address_of(assignee) or "")
            duty.roles[role] = owner_id
            for metric in metrics_by_role[role]:
                if metric.scope == "company":
                    duty.items.setdefault(Item(metric.key, None), owner_id)
                    continue
                for customer_id in owned[owner_id] if role in owner_roles else every_customer:
                    if metric.key == kpis.ACHIEVEMENT_RATE and customer_id in registered:
                        continue  # computed from the customer's KPI register
                    item = Item(metric.key, customer_id)
                    duty.items.setdefault(item, owner_id)
                    if metric.key in optional_metrics:
                        duty.optional.add(item)
            if role in owner_roles:  # the KPIs a customer requires are its owner's to hand in
                for customer_id in owned[owner_id]:
                    for kpi in registered.get(customer_id, []):
                        if not kpis.is_computed(kpi.kpi):
                            duty.items.setdefault(Item(kpi.metric, customer_id), owner_id)
    submitted = {key for key in session.scalars(select(FigureSubmission.series_key).where(
        FigureSubmission.period == period, FigureSubmission.is_current.is_(True)))}
    for duty in result.values():
        duty.submitted = {i for i in duty.items if series_key(i.metric, period, i.customer_id) in submitted}
    return {k: v for k, v in result.items() if v.items}
