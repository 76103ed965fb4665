"""The corrective actions the scorecard rules open (SPEC §2 and §6): three months abnormal in a
category, a month below target, a year below target (also for management review); each
trigger opens one action, however often the rules are evaluated."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED, department_name, due_in_working_days, route
from bot.calendar.working_days import WorkingCalendar
from bot.core.periods import add_months, month_of
from bot.core.stored_settings import data_call_settings
from bot.datacall.catalogue import targets_in_force
from bot.datacall.obligations import close_date
from bot.scorecard.book import ScoreBook
from bot.scorecard.engine import (
    ActionTrigger,
    MonthlyScore,
    annual_target_trigger,
    monthly_target_trigger,
    streak_triggers,
)
from storage.db import insert_ignoring_conflicts
from storage.models import (
    CorrectiveAction,
    CorrectiveActionStep,
    Customer,
    FigureSubmission,
    ScorecardEvent,
    SettingValue,
)
from storage.score_inputs import not_an_input

KPI = "kpi_achievement_rate"
CUSTOMER_SCORECARD = "customer_scorecard_pct"
DELIVERIES = ("on_time_deliveries", "late_deliveries")
SURVEY = "survey_score"


CATEGORY_TITLES = {"quality": ("质量表现", "quality performance"), "delivery": ("交付表现", "delivery performance"),
                   "kpi": ("顾客要求的绩效", "customer-required performance"),
                   "customer_scorecard": ("顾客积分卡", "customer scorecard")}


def action_title(trigger: ActionTrigger, customer: Customer) -> str:
    """Stored in both languages: the record outlives whoever reads it."""
    detail = trigger.detail
    if trigger.kind == "scorecard_streak":
        zh, en = CATEGORY_TITLES.get(str(detail["category"]), (str(detail["category"]),) * 2)
        return (f"{customer.name_zh}：{zh}连续 {detail['streak']} 个月异常，分析原因并整改 / "
                f"{customer.name_en}: {en} abnormal {detail['streak']} months in a row")
    if trigger.kind == "monthly_below_target":
        return (f"{customer.name_zh}：{detail['month']} 月度得分 {detail['total']} 低于目标 {detail['target']} / "
                f"{customer.name_en}: {detail['month']} score {detail['total']} below target {detail['target']}")
    return (f"{customer.name_zh}：{detail['year']} 年度得分 {detail['annual']} 低于目标 {detail['target']}，"
            f"提交管理评审 / {customer.name_en}: {detail['year']} annual score {detail['annual']} below target "
            f"{detail['target']}, to management review")


def open_actions(session: Session, triggers: Iterable[tuple[ActionTrigger, Customer]], now: dt.datetime,
                 tz: ZoneInfo | None = None) -> int:
    """Insert one action per trigger key; an existing key is left alone. Due in the
    configured working days from today, on the company calendar."""
    due = due_in_working_days(session, now, tz)
    rows = []
    for trigger, customer in triggers:
        area, owner = route(session, trigger.kind, trigger.detail, customer_owner=customer.owner_id)
        rows.append({
            "trigger_key": trigger.key, "trigger_kind": trigger.kind, "trigger_detail": trigger.detail,
            "customer_id": customer.id, "complaint_id": None, "title": action_title(trigger, customer),
            "area": area, "owner_department": department_name(session, area),
            "owner_id": owner or customer.owner_id, "management_review": trigger.kind == "annual_below_target",
            "due_date": due, "status": "open", "opened_at": now,
        })
    return insert_ignoring_conflicts(session, CorrectiveAction, rows)


def note_running_on(session: Session, running_on: list[tuple[int, ActionTrigger]], now: dt.datetime) -> None:
    """A rule firing again while its action is open (a streak running on) adds a line to that
    action, once for each new finding, rather than a second action."""
    for action_number, trigger in running_on:
        action = session.get(CorrectiveAction, action_number)
        if action is None or action.trigger_detail == trigger.detail:
            continue
        seen = {json.dumps(d, sort_keys=True) for d in session.scalars(select(CorrectiveActionStep.detail).where(
            CorrectiveActionStep.of_action == action.id, CorrectiveActionStep.step == "retriggered"))}
        if json.dumps(trigger.detail, sort_keys=True) not in seen:
            session.add(CorrectiveActionStep(of_action=action.id, step="retriggered", by_id=None, at=now,
                                             text=None, detail=dict(trigger.detail)))


def evaluate_actions(session: Session, month: str, now: dt.datetime, annual_year: int | None = None,
                     tz: ZoneInfo | None = None) -> int:
    """Apply the three rules for a completed month (and a completed year): streaks,
    monthly below target, annual below target."""
    book = ScoreBook(session, now, tz)
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.active.is_(True)))}
    codes = {cid: c.code for cid, c in customers.items()}
    rules = book.rules_for(month)
    # look back far enough to find where a running streak began (its start names the action)
    lookback = max(12, rules.abnormal_streak_months * 4)
    window = [add_months(month, -i) for i in range(lookback - 1, -1, -1)]
    scores = book.monthly(codes, window)
    targets = {m: targets_in_force(session, m, [KPI, CUSTOMER_SCORECARD]) for m in window}

    def abnormal(score: MonthlyScore, category: str) -> bool:
        """Quality and delivery: points lost. The two percentage categories: the figure below
        its target in the catalogue (a customer scoring us 92 % every month is not a run of
        failures when the target is 90)."""
        if category in ("quality", "delivery"):
            return score.lost.get(category, 0) > 0
        figure = score.kpi_figure if category == "kpi" else score.scorecard_figure
        target = targets.get(score.month, {}).get(KPI if category == "kpi" else CUSTOMER_SCORECARD)
        return figure is not None and target is not None and figure.value < target

    running = session.execute(select(CorrectiveAction.id, CorrectiveAction.customer_id,
                                     CorrectiveAction.trigger_detail).where(
        CorrectiveAction.trigger_kind == "scorecard_streak", CorrectiveAction.status.not_in(CLOSED))).all()
    open_streaks = {(cid, detail.get("category")): action for action, cid, detail in running}
    triggers: list[tuple[ActionTrigger, Customer]] = []
    running_on: list[tuple[int, ActionTrigger]] = []
    for cid, customer in customers.items():
        mine = {m: scores[(cid, m)] for m in window if (cid, m) in scores}
        for trigger in streak_triggers(customer.code, mine, month, rules.abnormal_streak_months, abnormal):
            action = open_streaks.get((cid, trigger.detail["category"]))
            if action is None:
                triggers.append((trigger, customer))
            else:  # one open action per running streak: the run going on is a line on it
                running_on.append((action, trigger))
        if month in mine:
            below = monthly_target_trigger(mine[month], rules.monthly_target)
            if below:
                triggers.append((below, customer))
    if annual_year is not None:
        year_rules = book.rules_for(f"{annual_year}-12")
        for cid, annual in book.annual(codes, annual_year).items():
            below_year = annual_target_trigger(annual, year_rules.annual_target)
            if below_year:
                triggers.append((below_year, customers[cid]))
    note_running_on(session, running_on, now)
    return open_actions(session, triggers, now, tz)


EVALUATED = not_an_input("scorecard_actions_evaluated")  # the settings row that says how far evaluation has come
# on a first run only the latest due month: an installation does not open actions for the past it imported
FIRST_BACKLOG_MONTHS = 1
# a late change is evaluated again within a year of the latest due month; history imported wholesale is not
CHANGED_LOOKBACK_MONTHS = 12


def evaluate_due_months(session: Session, last_due: str, now: dt.datetime, tz: ZoneInfo) -> int:
    """Evaluate every due month not yet evaluated (a month the job missed while the bot was
    down), and again every month whose figures or events changed since the last run (a
    late import of an old month's events); the rules open each action once, whatever runs
    twice. Returns the actions opened."""
    state = session.get(SettingValue, EVALUATED)
    through = str(state.value.get("through")) if state is not None else add_months(last_due, -FIRST_BACKLOG_MONTHS)
    since = dt.datetime.fromisoformat(state.value["at"]) if state is not None else None
    months = set()
    month = add_months(through, 1)
    while month <= last_due:
        months.add(month)
        month = add_months(month, 1)
    if since is not None:
        months |= set(session.scalars(select(FigureSubmission.period).where(FigureSubmission.submitted_at > since)
                                      .distinct()))
        # a month that closed since: its missing KPI figures now count, its score is final
        calendar, settings = WorkingCalendar.load(session), data_call_settings(session)
        today, last_run = now.astimezone(tz).date(), since.astimezone(tz).date()
        month = add_months(last_due, -CHANGED_LOOKBACK_MONTHS)
        while month <= last_due:
            if last_run < close_date(calendar, month, settings) <= today:
                months.add(month)
            month = add_months(month, 1)
        months |= {month_of(day) for day in session.scalars(
            select(ScorecardEvent.event_date).where(ScorecardEvent.entered_at > since).distinct())}
    opened = 0
    oldest = add_months(last_due, -CHANGED_LOOKBACK_MONTHS)
    for month in sorted(m for m in months if oldest < m <= last_due):
        year = int(month[:4])  # a December closes its year; the latest month also looks at the year before
        annual = year if month.endswith("-12") else year - 1 if month == last_due else None
        opened += evaluate_actions(session, month, now, annual, tz)
    latest = max(through, last_due)
    value = {"through": latest, "at": now.isoformat()}
    if state is None:  # a second replica may be writing it too: the first row stands, then both update it
        insert_ignoring_conflicts(session, SettingValue, [{"key": EVALUATED, "value": value, "updated_at": now}])
    session.execute(update(SettingValue).where(SettingValue.key == EVALUATED).values(value=value, updated_at=now))
    return opened
