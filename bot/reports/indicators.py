"""The numbers every report shows, for a month, a quarter or a year: composed from the
stored scores (equal to the score book's), the complaint statistics, the data call's
status and the corrective actions, so that a report never computes a score of its own.

A month's scores are the customers' monthly scores; a quarter's the mean of each
customer's evaluated months in it; a year's the annual score (the monthly mean blended with
the survey score, SPEC §2), judged against the annual target. `csatbot report … --json`
prints them so that they can be checked."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.actions.lifecycle import CLOSED as CLOSED_ACTIONS
from bot.calendar.working_days import WorkingCalendar
from bot.complaints.statistics import monthly_stats
from bot.core.periods import add_months, month_end, month_start, months_of_year
from bot.core.texts import T, UserError
from bot.datacall.status import missing_count
from bot.people.customers import all_customers
from bot.scorecard import stored
from bot.scorecard.book import ScoreBook
from bot.scorecard.engine import MonthlyScore, score_year
from storage.models import CorrectiveAction

KINDS = ("month", "quarter", "year", "review")


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # month | quarter | year | review (the year, for management review)
    label: str  # 2026-10, 2026-Q3, 2026
    months: tuple[str, ...]

    def previous(self) -> ReportPeriod:
        """The period before, of the same length (for the change of the mean)."""
        first = add_months(self.months[0], -len(self.months))
        months = tuple(add_months(first, i) for i in range(len(self.months)))
        if self.kind == "month":
            return ReportPeriod("month", months[0], months)
        if self.kind == "quarter":
            return ReportPeriod("quarter", f"{months[0][:4]}-Q{(int(months[0][5:]) - 1) // 3 + 1}", months)
        return ReportPeriod(self.kind, months[0][:4], months)


def report_period(kind: str, text: str) -> ReportPeriod:
    """`month 2026-10`, `quarter 2026-Q3` (or 2026Q3), `year 2026`, `review 2026`."""
    cleaned = text.strip().upper()
    if kind == "month" and re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", cleaned):
        return ReportPeriod(kind, cleaned, (cleaned,))
    match = re.fullmatch(r"(\d{4})-?Q([1-4])", cleaned)
    if kind == "quarter" and match:
        year, quarter = int(match.group(1)), int(match.group(2))
        months = tuple(f"{year:04d}-{m:02d}" for m in range(3 * quarter - 2, 3 * quarter + 1))
        return ReportPeriod(kind, f"{year:04d}-Q{quarter}", months)
    if kind in ("year", "review") and re.fullmatch(r"\d{4}", cleaned) and 1900 <= int(cleaned) <= 2200:
        return ReportPeriod(kind, cleaned, tuple(months_of_year(int(cleaned))))
    asked = f"{kind} {text}"
    raise UserError(T("A report is `month YYYY-MM`, `quarter YYYY-Q1…Q4`, `year YYYY` or `review YYYY`; "
                      "{value!r} is none of them.", value=asked))


def indicators(session: Session, period: ReportPeriod, now: dt.datetime, tz: ZoneInfo,
               today: dt.date | None = None,
               monthly: dict[tuple[int, str], MonthlyScore] | None = None,
               before: dict[int, float] | None = None) -> dict[str, Any]:
    """`{period, customers, mean_score, mean_change, grades: {key: n}, below_target: [code],
    complaints: {count, sla: {deadline: {met, breached}}}, figures_missing, actions: {open,
    overdue, closed}}`. `monthly` (the period's monthly scores) and `before` (the period
    before's scores): when the caller has them already."""
    today = today or now.astimezone(tz).date()
    book = ScoreBook(session, now, tz)
    customers = all_customers(session)
    scores = period_scores(book, customers, period, monthly)
    if before is None:
        before = period_scores(book, customers, period.previous())
    last = period.months[-1]
    rules = book.rules_for(last)
    target = rules.annual_target if period.kind in ("year", "review") else rules.monthly_target
    grades = {g.key: 0 for g in rules.grades}
    for score in scores.values():
        grades[rules.grade(score).key] += 1
    mean_score = round(mean(scores.values()), 2) if scores else None
    mean_before = round(mean(before.values()), 2) if before else None
    complaints: dict[str, Any] = {"count": 0, "sla": {}}
    for month in period.months:
        stats = monthly_stats(session, month, tz, now)
        complaints["count"] += stats["count"]
        for deadline, counts in stats["sla"].items():
            into = complaints["sla"].setdefault(deadline, {"met": 0, "breached": 0})
            into["met"] += counts["met"]
            into["breached"] += counts["breached"]
    calendar = WorkingCalendar.load(session)
    missing = sum(missing_count(session, month, today, calendar) for month in period.months)
    start = dt.datetime.combine(month_start(period.months[0]), dt.time(), tz)
    end = dt.datetime.combine(month_end(last) + dt.timedelta(days=1), dt.time(), tz)
    open_actions = CorrectiveAction.status.not_in(CLOSED_ACTIONS)
    actions = {
        "open": session.scalar(select(func.count()).where(open_actions)) or 0,
        "overdue": session.scalar(select(func.count()).where(open_actions, CorrectiveAction.due_date < today)) or 0,
        "opened": session.scalar(select(func.count()).where(CorrectiveAction.opened_at >= start,
                                                             CorrectiveAction.opened_at < end)) or 0,
        "closed": session.scalar(select(func.count()).where(CorrectiveAction.closed_at >= start,
                                                             CorrectiveAction.closed_at < end)) or 0,
    }
    return {
        "kind": period.kind, "period": period.label, "months": list(period.months), "customers": len(scores),
        "mean_score": mean_score,
        "mean_change": round(mean_score - mean_before, 2) if mean_score is not None and mean_before is not None
        else None,
        "target": target, "grades": grades,
        "grade_names": {g.key: {"zh-CN": g.name_zh, "en": g.name_en} for g in rules.grades},
        "below_target": sorted(customers[cid] for cid, score in scores.items() if score < target),
        "complaints": complaints, "figures_missing": missing, "actions": actions,
    }


def period_scores(book: ScoreBook, customers: dict[int, str], period: ReportPeriod,
                  monthly: dict[tuple[int, str], MonthlyScore] | None = None) -> dict[int, float]:
    """Each scored customer's score for the period: the month's, the quarter's mean, or the
    annual score with the survey blend (the score book's `annual`, from `monthly` when given)."""
    if period.kind in ("year", "review"):
        year = int(period.label)
        if monthly is None:
            annuals = book.annual(customers, year)
        else:
            rules, surveys = book.rules_for(f"{year}-12"), book.survey_scores(year, list(customers))
            by_customer: dict[int, list[MonthlyScore]] = {}
            for (cid, _month), score in monthly.items():
                by_customer.setdefault(cid, []).append(score)
            annuals = {cid: score_year(rules, code, year, by_customer.get(cid, []), surveys.get(cid))
                       for cid, code in customers.items()}
        return {cid: annual.annual for cid, annual in annuals.items() if annual.annual is not None}
    totals: dict[int, list[float]] = {}
    if monthly is not None:
        for (cid, _month), score in monthly.items():
            totals.setdefault(cid, []).append(score.total)
        return {cid: round(mean(values), 2) for cid, values in totals.items()}
    headlines = stored.monthly_headlines(book, customers, list(period.months))
    for (cid, _month), headline in headlines.items():
        totals.setdefault(cid, []).append(headline.total)
    return {cid: round(mean(values), 2) for cid, values in totals.items()}
