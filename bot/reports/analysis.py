"""The quarterly analysis and the annual report (002 第十四条, 001 §5.6.4): the indicators of
the period with their trend by month, the Pareto of the points lost by event type, the
customers whose grade fell against the period before, the survey results, the complaints
and the corrective actions. Everything is composed from the score book, the complaint
statistics and the action register; the annual scores are the score book's (the monthly
mean blended with the survey score), judged against the annual target."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED as CLOSED_ACTIONS
from bot.complaints.statistics import pareto, span_stats
from bot.core.periods import month_end, month_start
from bot.core.stored_settings import setting
from bot.people.customers import all_customers
from bot.reports.indicators import ReportPeriod, indicators, period_scores
from bot.scorecard.book import ScoreBook
from bot.scorecard.engine import CATEGORIES, MonthlyScore, RuleSet, score_year
from storage.models import CorrectiveAction, Customer


@dataclass
class CustomerLine:
    """One customer's line of the report: its months, its score for the period and the one before."""

    code: str
    name_zh: str
    name_en: str
    months: dict[str, float]
    score: float | None
    grade: str | None
    before: float | None
    before_grade: str | None
    monthly_mean: float | None = None  # the year's: before the survey blend
    survey_score: float | None = None
    below_target: bool = False
    lost: dict[str, float] = field(default_factory=dict)  # category -> points lost over the period

    @property
    def grade_fell(self) -> bool:
        return self.before is not None and self.score is not None and self.before_grade != self.grade \
            and self.score < self.before


@dataclass
class ActionLine:
    id: int
    customer: str
    title: str
    department: str
    status: str
    opened: dt.date
    due: dt.date | None
    closed: dt.date | None
    overdue: bool
    management_review: bool


@dataclass
class Analysis:
    period: ReportPeriod
    numbers: dict[str, Any]  # the indicators, as `csatbot report … --json` prints them
    rules: RuleSet
    customers: list[CustomerLine]  # the scored ones, lowest score first
    monthly_means: list[tuple[str, float | None, int]]  # month, mean of the scored, how many
    grades_by_month: dict[str, dict[str, int]]
    lost_by_event: list[dict[str, Any]]  # Pareto rows {key, name_zh, name_en, category, value, count, cumulative_pct}
    complaints: dict[str, Any]  # span_stats of the period, with the failure modes
    failure_modes: list[dict[str, Any]]
    actions: list[ActionLine]

    @property
    def grade_fell(self) -> list[CustomerLine]:
        return [line for line in self.customers if line.grade_fell]

    @property
    def surveyed(self) -> list[CustomerLine]:
        return [line for line in self.customers if line.survey_score is not None]


def analyse(session: Session, period: ReportPeriod, now: dt.datetime, tz: ZoneInfo,
            today: dt.date | None = None) -> Analysis:
    today = today or now.astimezone(tz).date()
    book = ScoreBook(session, now, tz)
    customers = all_customers(session)
    months = list(period.months)
    monthly = book.monthly(customers, months)
    before = period_scores(book, customers, period.previous())
    numbers = indicators(session, period, now, tz, today, monthly=monthly, before=before)
    rules = book.rules_for(months[-1])
    yearly = period.kind in ("year", "review")
    target = rules.annual_target if yearly else rules.monthly_target
    by_customer: dict[int, list[MonthlyScore]] = defaultdict(list)
    for (cid, _month), score in monthly.items():
        by_customer[cid].append(score)
    # the year's surveys blend into the annual score; a quarter shows those of its months
    surveys = book.survey_scores(int(months[0][:4]), list(customers), None if yearly else (months[0], months[-1]))
    names = {row.id: row for row in session.scalars(select(Customer).where(Customer.id.in_(list(by_customer))))}
    lines = []
    for cid, scores in by_customer.items():
        if yearly:
            annual = score_year(rules, customers[cid], int(period.label), scores, surveys.get(cid))
            score, monthly_mean = annual.annual, annual.monthly_mean
        else:
            score = monthly_mean = round(mean(s.total for s in scores), 2)
        lost: dict[str, float] = defaultdict(float)
        for month_score in scores:
            for category in CATEGORIES:
                lost[category] += month_score.lost.get(category, 0.0)
        row = names[cid]
        lines.append(CustomerLine(
            customers[cid], row.name_zh, row.name_en, {s.month: s.total for s in scores}, score,
            rules.grade(score).key if score is not None else None, before.get(cid),
            rules.grade(before[cid]).key if cid in before else None, monthly_mean, surveys.get(cid),
            score is not None and score < target, {k: round(v, 2) for k, v in lost.items() if v}))
    lines.sort(key=lambda line: (line.score if line.score is not None else 999.0, line.code))
    means, grades_by_month = [], {}
    for month in months:
        totals = [s for (_cid, m), s in monthly.items() if m == month]
        means.append((month, round(mean(s.total for s in totals), 2) if totals else None, len(totals)))
        counts = {g.key: 0 for g in book.rules_for(month).grades}
        for score in totals:
            counts[score.grade] = counts.get(score.grade, 0) + 1
        grades_by_month[month] = counts
    modes = list(setting(session, "complaints").get("failure_modes", []))
    return Analysis(period, numbers, rules, lines, means, grades_by_month, _lost_by_event(book, monthly),
                    span_stats(session, months, tz, now, modes), modes,
                    _actions(session, months, tz, today, customers))


def _lost_by_event(book: ScoreBook, monthly: dict[tuple[int, str], MonthlyScore]) -> list[dict[str, Any]]:
    """The points lost over the period by the event type that took them, as a Pareto."""
    points: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    kinds: dict[str, Any] = {}
    for (_cid, month), score in monthly.items():
        rules = book.rules_for(month)
        for deduction in score.deductions:
            points[deduction.event_type] += deduction.points
            counts[deduction.event_type] += deduction.count
            kinds.setdefault(deduction.event_type, rules.events.get(deduction.event_type))
    rows = pareto({key: value for key, value in points.items() if value > 0})
    for row in rows:
        kind = kinds.get(row["key"])
        row.update(count=counts[row["key"]], category=kind.category if kind else "",
                   name_zh=kind.name_zh if kind else row["key"], name_en=kind.name_en if kind else row["key"])
    return rows


def _actions(session: Session, months: list[str], tz: ZoneInfo, today: dt.date,
             customers: dict[int, str]) -> list[ActionLine]:
    """The corrective actions of the period: opened or closed in it, or open at its end."""
    start = dt.datetime.combine(month_start(months[0]), dt.time(), tz).astimezone(dt.UTC)
    end = dt.datetime.combine(month_end(months[-1]) + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
    open_now = CorrectiveAction.status.not_in(CLOSED_ACTIONS)
    rows = session.scalars(select(CorrectiveAction).where(
        or_(CorrectiveAction.opened_at.between(start, end), CorrectiveAction.closed_at.between(start, end),
            open_now & (CorrectiveAction.opened_at < end))).order_by(CorrectiveAction.opened_at, CorrectiveAction.id))
    return [ActionLine(a.id, customers.get(a.customer_id or 0, ""), a.title, a.owner_department or "", a.status,
                       a.opened_at.astimezone(tz).date(), a.due_date,
                       a.closed_at.astimezone(tz).date() if a.closed_at else None,
                       a.status not in CLOSED_ACTIONS and a.due_date is not None and a.due_date < today,
                       bool(a.management_review)) for a in rows]
