"""The monthly data call (SPEC §1): who owes which figures for a month, when they open and
fall due on the working calendar, the dialog that takes them, and where things stand.

Everything is derived from rows: the obligations from people, roles, customers and
delegations; the status from the current figure submissions. Nothing is remembered in
memory, so the jobs that chase people can run anywhere, any number of times.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.calendar.working_days import WorkingCalendar
from bot.core.caller import Caller
from bot.core.i18n import Gettext, gettext_for, pick, unit_name
from bot.core.periods import add_months, current_period, month_start
from bot.core.stored_settings import data_call_settings
from bot.core.texts import T, Text
from bot.core.views import Actions, Button, Card, Context, Field, FieldList, Form, FormField, Message, Paragraph, Table
from bot.datacall.figures import check_value, parse_number, record_figure, series_key
from storage.models import (
    Customer,
    FigureDraft,
    FigureSubmission,
    Metric,
    Person,
    PersonRole,
    Role,
    RoleDelegation,
)

FIELDS_PER_PAGE = 80  # figure fields per dialog page: what one sitting takes, and what every messenger's dialog holds
OUTLIER_SIGMAS = 4.0
HISTORY_MONTHS = 6


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
    remind = due
    for _ in range(settings["remind_working_days_before_due"]):
        remind -= dt.timedelta(days=1)
        while not calendar.is_working_day(remind):
            remind -= dt.timedelta(days=1)
    return CallDates(period, opens, max(remind, opens), due)


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


# --- who owes what ----------------------------------------------------------------------------------------


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
    slack_user_id: str
    name: str
    locale: str | None
    roles: dict[str, int] = field(default_factory=dict)  # role -> person whose role it is (self or delegator)
    items: dict[Item, int] = field(default_factory=dict)  # item -> on whose behalf (person id)
    submitted: set[Item] = field(default_factory=set)
    optional: set[Item] = field(default_factory=set)  # in the dialog, but nobody is chased for them

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
                                                        assignee.locale)
            duty.roles[role] = owner_id
            for metric in metrics_by_role[role]:
                if metric.scope == "company":
                    duty.items.setdefault(Item(metric.key, None), owner_id)
                    continue
                for customer_id in owned[owner_id] if role in owner_roles else every_customer:
                    item = Item(metric.key, customer_id)
                    duty.items.setdefault(item, owner_id)
                    if metric.key in optional_metrics:
                        duty.optional.add(item)
    submitted = {key for key in session.scalars(select(FigureSubmission.series_key).where(
        FigureSubmission.period == period, FigureSubmission.is_current.is_(True)))}
    for duty in result.values():
        duty.submitted = {i for i in duty.items if series_key(i.metric, period, i.customer_id) in submitted}
    return {k: v for k, v in result.items() if v.items}


# --- what people see --------------------------------------------------------------------------------------


def weekday_date(_: Gettext, day: dt.date) -> str:
    names = _("Mon Tue Wed Thu Fri Sat Sun").split()
    return f"{day.isoformat()} ({names[day.weekday()]})"


def role_names(session: Session, locale: str) -> dict[str, str]:
    return {r.key: pick(locale, r.name_zh, r.name_en) for r in session.scalars(select(Role))}


@dataclass
class CallContext:
    """What every call message of a month shares, loaded once for a fan-out to thousands."""

    dates: CallDates
    settings: dict[str, Any]
    company_locale: str
    metrics: dict[str, Metric]
    roles: dict[str, Role]
    people: dict[int, str]

    @classmethod
    def load(cls, session: Session, dates: CallDates, company_locale: str) -> CallContext:
        return cls(dates, data_call_settings(session), company_locale,
                   {m.key: m for m in session.scalars(select(Metric))},
                   {r.key: r for r in session.scalars(select(Role))},
                   dict(session.execute(select(Person.id, Person.name)).all()))


def call_message(context: CallContext, duty: Obligation, reminder: str | None = None) -> Message:
    """The DM that calls for a month's figures (or reminds, threaded under the call)."""
    dates, settings, metrics, people = context.dates, context.settings, context.metrics, context.people
    locale = duty.locale or context.company_locale
    _ = gettext_for(locale)
    names = {k: pick(locale, r.name_zh, r.name_en) for k, r in context.roles.items()}
    outstanding = duty.outstanding
    per_metric: dict[str, int] = defaultdict(int)
    for item in outstanding:
        per_metric[item.metric] += 1
    due = weekday_date(_, dates.due)
    if reminder == "due-2":
        text = _("Reminder: your figures for {period} are due on {due}; {n} still missing.").format(
            period=dates.period, due=due, n=len(outstanding))
    elif reminder == "due":
        text = _("Today is the due date for your figures for {period}: {n} still missing.").format(
            period=dates.period, n=len(outstanding))
    elif reminder == "overdue":
        text = _("Your figures for {period} were due on {due} and {n} are still missing. Please hand them in "
                 "today.").format(period=dates.period, due=due, n=len(outstanding))
    else:
        text = _("Please hand in your figures for {period} by {due}.").format(period=dates.period, due=due)
    roles = [Field(names.get(role, role), _("for yourself") if owner == duty.person_id
                   else _("on behalf of {name}").format(name=people.get(owner, "?")))
             for role, owner in duty.roles.items()]
    rows = [[pick(locale, metrics[k].name_zh, metrics[k].name_en), unit_name(_, metrics[k].unit), str(n)]
            for k, n in per_metric.items()]
    parts: list = [Paragraph(text, strong=reminder is not None), FieldList(roles)]
    if rows:
        parts.append(Table([_("Figure"), _("Unit"), _("Missing")], rows[:20]))
    pages = len(dialog_pages(outstanding or list(duty.items)))
    if pages > 5:
        parts.append(Paragraph(_("That is {pages} pages of figures: pick a customer with `/csat figures {period} "
                                 "<customer>`, or send an Excel file to a quality engineer for "
                                 "`csatbot import figures`.").format(pages=pages, period=dates.period)))
    parts.append(Actions([Button(_("Enter figures"), "figures.open", json.dumps({"period": dates.period}),
                                 "primary")]))
    parts.append(Context(_("A month's figures open on working day {open} and are due on working day {due} of the "
                           "following month, on the Chinese working calendar.").format(
        open=settings["open_working_day"], due=settings["due_working_day"])
        if reminder is None else _("Figures already handed in are not asked for again.")))
    title = _("Monthly figures for {period}").format(period=dates.period)
    return Message(text=text, cards=[Card(title=title, parts=parts)])


# --- the dialog -------------------------------------------------------------------------------------------


def dialog_pages(items: list[Item]) -> list[list[Item]]:
    """Company-wide figures first, then customers whole (a customer never splits across pages)."""
    company = [i for i in items if i.customer_id is None]
    by_customer: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        if item.customer_id is not None:
            by_customer[item.customer_id].append(item)
    pages: list[list[Item]] = []
    page = list(company)
    for customer_items in by_customer.values():
        if page and len(page) + len(customer_items) > FIELDS_PER_PAGE:
            pages.append(page)
            page = []
        page.extend(customer_items)
    if page:
        pages.append(page)
    return pages


def first_open_page(duty: Obligation, only_customer: int | None = None) -> int:
    """Where to open the dialog: the first page with a figure still owed."""
    items = [i for i in duty.items if only_customer is None or i.customer_id == only_customer]
    missing = set(duty.outstanding)
    for index, page in enumerate(dialog_pages(items)):
        if missing.intersection(page):
            return index
    return 0


def field_id(item: Item) -> str:
    return f"f|{item.metric}|{item.customer_id if item.customer_id is not None else '-'}"


def item_of(field_key: str) -> Item | None:
    parts = field_key.split("|")
    if len(parts) != 3 or parts[0] != "f":
        return None
    return Item(parts[1], None if parts[2] == "-" else int(parts[2]))


def _fmt(value: Decimal | float) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def figures_form(session: Session, caller: Caller, duty: Obligation, period: str, page_index: int,
                 only_customer: int | None = None) -> Form:
    _ = caller._
    locale = caller.locale or "zh-CN"
    items = [i for i in duty.items if only_customer is None or i.customer_id == only_customer]
    pages = dialog_pages(items)
    page_index = min(page_index, max(0, len(pages) - 1))
    page = pages[page_index] if pages else []
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_({i.customer_id for i in page if i.customer_id is not None})))}
    keys = [series_key(i.metric, period, i.customer_id) for i in page]
    current = {s.series_key: s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_(keys), FigureSubmission.is_current.is_(True)))}
    previous_keys = [series_key(i.metric, add_months(period, -1), i.customer_id) for i in page]
    previous = {s.series_key: s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_(previous_keys), FigureSubmission.is_current.is_(True)))}
    draft = session.scalar(select(FigureDraft).where(FigureDraft.person_id == duty.person_id,
                                                     FigureDraft.period == period))
    drafted = dict(draft.values) if draft else {}
    fields = []
    for item in page:
        metric = metrics[item.metric]
        name = pick(locale, metric.name_zh, metric.name_en)
        label = name if item.customer_id is None else (
            f"{customers[item.customer_id].code} · "
            f"{pick(locale, customers[item.customer_id].name_zh, customers[item.customer_id].name_en)} · {name}")
        key = series_key(item.metric, period, item.customer_id)
        last = previous.get(series_key(item.metric, add_months(period, -1), item.customer_id))
        hint = _("{unit}, {low}–{high}").format(unit=unit_name(_, metric.unit), low=_fmt(metric.min_value),
                                                 high=_fmt(metric.max_value))
        if last is not None:
            hint += " · " + _("last month: {value}").format(value=_fmt(last))
        if key in current:
            hint += " · " + _("already submitted: {value} (a change needs a reason)").format(value=_fmt(current[key]))
        initial = drafted.get(field_id(item))
        if initial is None and key in current:
            initial = _fmt(current[key])
        fields.append(FormField(field_id(item), f"{label} ({unit_name(_, metric.unit)})"[:1900], "text",
                                required=False,
                                hint=hint, initial=initial, max_length=40))
    fields.append(FormField("note", _("Note (confirms an unusual value)"), "multiline", required=False,
                            initial=drafted.get("note"), max_length=1000))
    fields.append(FormField("reason", _("Reason for a correction"), "multiline", required=False,
                            initial=drafted.get("reason"), max_length=1000))
    last_page = page_index >= len(pages) - 1
    intro = _("Figures for {period}, page {page} of {pages}. Leave a field empty to hand it in later; what you "
              "type is kept as a draft if you close this dialog.").format(period=period, page=page_index + 1,
                                                                         pages=max(1, len(pages)))
    return Form(
        kind="figures.submit", title=_("Figures {period}").format(period=period),
        submit=_("Save") if last_page else _("Save and next"), close=_("Close"), fields=fields, intro=intro,
        state={"period": period, "page": page_index, "customer": only_customer},
        notify_on_close=True,
    )


def history(session: Session, item: Item, period: str) -> list[float]:
    first = add_months(period, -HISTORY_MONTHS)
    query = select(FigureSubmission.value).where(
        FigureSubmission.metric_key == item.metric, FigureSubmission.is_current.is_(True),
        FigureSubmission.period >= first, FigureSubmission.period < period)
    query = query.where(FigureSubmission.customer_id.is_(None) if item.customer_id is None
                        else FigureSubmission.customer_id == item.customer_id)
    return [float(v) for v in session.scalars(query)]


def is_outlier(value: float, past: list[float]) -> bool:
    """Far outside what this figure has been: more than 4 standard deviations (or, for a
    figure that never moved, more than half its level) from the recent mean."""
    if len(past) < 3:
        return False
    mean = statistics.fmean(past)
    spread = statistics.pstdev(past)
    if spread == 0:
        return abs(value - mean) > max(abs(mean) * 0.5, 1.0)
    return abs(value - mean) > OUTLIER_SIGMAS * spread + 1e-9


@dataclass
class Saved:
    recorded: list[tuple[Item, Decimal, Decimal | None]]  # item, new value, previous value


def validate_and_save(session: Session, caller: Caller, duty: Obligation, period: str, values: dict[str, Any],
                      now: dt.datetime) -> tuple[Saved | None, dict[str, Text]]:
    """Check every typed figure (format, unit, range, history, corrections need a reason);
    save them all only when none is wrong."""
    errors: dict[str, Text] = {}
    note = str(values.get("note") or "").strip() or None
    reason = str(values.get("reason") or "").strip() or None
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    accepted: list[tuple[Item, Decimal]] = []
    for key, raw in values.items():
        item = item_of(key)
        if item is None or raw in (None, ""):
            continue
        if item not in duty.items:
            errors[key] = T("This figure is not yours to hand in for this month.")
            continue
        value = parse_number(str(raw))
        if value is None:
            errors[key] = T("{value!r} is not a number.", value=str(raw))
            continue
        problem = check_value(metrics[item.metric], value)
        if problem:
            errors[key] = problem
            continue
        if note is None and is_outlier(float(value), history(session, item, period)):
            errors[key] = T("{value} is far from this figure's recent values. Check it, or confirm it with a "
                            "note below.", value=_fmt(value))
            continue
        accepted.append((item, value))
    keys = {series_key(i.metric, period, i.customer_id): i for i, _v in accepted}
    current = {s.series_key: s.value for s in session.scalars(select(FigureSubmission).where(
        FigureSubmission.series_key.in_(list(keys)), FigureSubmission.is_current.is_(True)))}
    changes = [i for i, v in accepted if series_key(i.metric, period, i.customer_id) in current
               and current[series_key(i.metric, period, i.customer_id)] != v]
    if changes and not reason:
        errors["reason"] = T("You changed {n} figure(s) already submitted: say why (the earlier values are kept).",
                             n=len(changes))
    if errors:
        return None, errors
    saved = Saved([])
    for item, value in accepted:
        owner = duty.items[item]
        result = record_figure(session, item.metric, period, item.customer_id, value, now, by=caller.person_id,
                               source="dialog", reason=reason if item in changes else None,
                               on_behalf_of=owner if owner != caller.person_id else None, note=note)
        if result.changed:
            saved.recorded.append((item, value, result.previous))
    clear_draft(session, duty.person_id, period, [field_id(i) for i, _v in accepted])
    return saved, {}


def save_draft(session: Session, person_id: int, period: str, values: dict[str, Any], now: dt.datetime) -> None:
    typed = {k: str(v) for k, v in values.items() if v not in (None, "") and (item_of(k) or k in ("note", "reason"))}
    draft = session.scalar(select(FigureDraft).where(FigureDraft.person_id == person_id,
                                                     FigureDraft.period == period))
    if draft is None:
        if typed:
            session.add(FigureDraft(person_id=person_id, period=period, values=typed, updated_at=now))
        return
    merged = dict(draft.values)
    merged.update(typed)
    draft.values = merged
    draft.updated_at = now


def clear_draft(session: Session, person_id: int, period: str, keys: list[str]) -> None:
    draft = session.scalar(select(FigureDraft).where(FigureDraft.person_id == person_id,
                                                     FigureDraft.period == period))
    if draft is None:
        return
    remaining = {k: v for k, v in draft.values.items() if k not in keys and k not in ("note", "reason")}
    if remaining:
        draft.values = remaining
    else:
        session.delete(draft)


def confirmation(session: Session, caller: Caller, period: str, saved: Saved) -> Message:
    _ = caller._
    locale = caller.locale or "zh-CN"
    metrics = {m.key: m for m in session.scalars(select(Metric))}
    customers = {c.id: c.code for c in session.scalars(select(Customer).where(
        Customer.id.in_({i.customer_id for i, _v, _p in saved.recorded if i.customer_id is not None})))}
    rows = [[customers.get(i.customer_id, "—") if i.customer_id else _("company"),
             pick(locale, metrics[i.metric].name_zh, metrics[i.metric].name_en),
             f"{_fmt(v)} {unit_name(_, metrics[i.metric].unit)}", _fmt(p) if p is not None else ""]
            for i, v, p in saved.recorded]
    text = _("Recorded {n} figure(s) for {period}. Thank you.").format(n=len(saved.recorded), period=period)
    parts: list = [Paragraph(text)]
    if rows:
        parts.append(Table([_("Customer"), _("Figure"), _("Value"), _("Earlier value")], rows[:40]))
    return Message(text=text, cards=[Card(title=_("Figures saved"), parts=parts)])


# --- where things stand -----------------------------------------------------------------------------------


def status_report(session: Session, period: str, today: dt.date, calendar: WorkingCalendar) -> dict[str, Any]:
    """Who owes what for a month, for `/csat status` and `csatbot figures status --json`."""
    dates = call_dates(calendar, period, data_call_settings(session))
    duties = obligations(session, period, min(today, dates.due))
    metric_names = {key: (zh, en) for key, zh, en in session.execute(select(Metric.key, Metric.name_zh,
                                                                             Metric.name_en))}
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    people = []
    for duty in sorted(duties.values(), key=lambda d: (d.done, d.name)):
        state = "submitted" if duty.done else ("late" if today > dates.due else "open")
        people.append({
            "slack_user_id": duty.slack_user_id, "name": duty.name, "roles": sorted(duty.roles),
            "on_behalf_of": sorted({o for o in duty.roles.values() if o != duty.person_id}),
            "items": duty.required, "submitted": duty.handed_in, "status": state,
            "figures": _per_figure(duty),
            "missing": [{"metric": i.metric, "metric_name_zh": metric_names.get(i.metric, (i.metric,))[0],
                         "metric_name_en": metric_names.get(i.metric, (i.metric, i.metric))[-1],
                         "customer": codes.get(i.customer_id) if i.customer_id else None}
                        for i in duty.outstanding],
        })
    return {"period": period, "opens": dates.opens.isoformat(), "due": dates.due.isoformat(),
            "phase": dates.phase(today), "people": people,
            "totals": {"people": len(people), "submitted": sum(p["status"] == "submitted" for p in people),
                       "late": sum(p["status"] == "late" for p in people),
                       "open": sum(p["status"] == "open" for p in people)}}


def _per_figure(duty: Obligation) -> dict[str, dict[str, int]]:
    """Per figure: how many values are owed (customers, or 1 company-wide) and handed in."""
    counts: dict[str, dict[str, int]] = {}
    for item in duty.items:
        if item in duty.optional:
            continue
        entry = counts.setdefault(item.metric, {"owed": 0, "submitted": 0})
        entry["owed"] += 1
        entry["submitted"] += item in duty.submitted
    return counts


def missing_name(missing: dict[str, Any], locale: str) -> str:
    return str(pick(locale, missing["metric_name_zh"], missing["metric_name_en"]))


def status_message(report: dict[str, Any], locale: str, limit: int = 25) -> Message:
    _ = gettext_for(locale)
    totals = report["totals"]
    title = _("Figures for {period}: where things stand").format(period=report["period"])
    text = _("{submitted} of {people} people have handed in everything; {late} late.").format(**totals)
    state_names = {"submitted": _("submitted"), "late": _("late"), "open": _("open")}
    rows = [[p["name"], state_names[p["status"]], f"{p['submitted']}/{p['items']}",
             ", ".join(sorted({missing_name(m, locale) for m in p["missing"]}))[:60]]
            for p in report["people"] if p["status"] != "submitted"][:limit]
    parts: list = [FieldList([Field(_("Opens"), report["opens"]), Field(_("Due"), report["due"]),
                              Field(_("Submitted"), f"{totals['submitted']}/{totals['people']}"),
                              Field(_("Late"), str(totals["late"]))]),
                   Paragraph(text)]
    if rows:
        parts.append(Table([_("Person"), _("Status"), _("Done"), _("Missing")], rows))
        if len(rows) < totals["people"] - totals["submitted"]:
            parts.append(Context(_("First {n} shown; `csatbot figures status --month {period} --json` lists "
                                   "everyone.").format(n=limit, period=report["period"])))
    return Message(text=text, cards=[Card(title=title, parts=parts)])


def overdue_post(report: dict[str, Any], locale: str) -> Message:
    """The quality channel's one post about who is late, updated in place."""
    _ = gettext_for(locale)
    late = [p for p in report["people"] if p["status"] == "late"]
    title = _("Overdue figures for {period} (due {due})").format(period=report["period"], due=report["due"])
    if not late:
        text = _("Everyone has handed in the figures for {period}.").format(period=report["period"])
        return Message(text=text, cards=[Card(title=title, parts=[Paragraph(text)])])
    text = _("{n} people still owe figures for {period}.").format(n=len(late), period=report["period"])
    rows = [[p["name"], f"{p['submitted']}/{p['items']}",
             ", ".join(sorted({missing_name(m, locale) for m in p["missing"]}))[:60]] for p in late[:40]]
    return Message(text=text, cards=[Card(title=title, parts=[
        Paragraph(text), Table([_("Person"), _("Done"), _("Missing")], rows),
        Context(_("Updated {today}; this post is kept up to date rather than repeated.").format(
            today=report.get("as_of", ""))),
    ])])
