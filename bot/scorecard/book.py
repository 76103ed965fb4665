"""The score book: what the scorecard engine needs, loaded in a few set-based queries, and
the monthly and annual scores it gives for one or all customers, each month scored with
the rule set in force then."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bot.calendar.working_days import WorkingCalendar
from bot.core.defaults import load_defaults
from bot.core.periods import month_end, month_of, month_start, months_of_year
from bot.core.stored_settings import data_call_settings
from bot.datacall.obligations import close_date
from bot.scorecard import kpis
from bot.scorecard.engine import (
    AnnualScore,
    EventInput,
    EventRule,
    FigureInput,
    GradeRule,
    MonthlyScore,
    RuleSet,
    rule_set_for,
    score_month,
    score_year,
)
from storage.db import as_utc
from storage.models import (
    Complaint,
    Customer,
    FigureSubmission,
    Metric,
    Person,
    ScorecardEvent,
    ScorecardRuleSet,
)

KPI = "kpi_achievement_rate"
CUSTOMER_SCORECARD = "customer_scorecard_pct"
DELIVERIES = ("on_time_deliveries", "late_deliveries")
SURVEY = "survey_score"


def load_rule_sets(session: Session) -> list[RuleSet]:
    result = []
    for row in session.scalars(select(ScorecardRuleSet).order_by(ScorecardRuleSet.valid_from)):
        result.append(RuleSet(
            version=row.version, valid_from=row.valid_from,
            category_points={k: float(v) for k, v in row.category_points.items()},
            events={r.event_type: EventRule(r.event_type, r.category, float(r.points), r.name_zh, r.name_en)
                    for r in row.rules},
            grades=tuple(GradeRule(g.key, float(g.min_score), g.name_zh, g.name_en)
                         for g in sorted(row.grades, key=lambda g: -g.min_score)),
            monthly_target=float(row.monthly_target), annual_target=float(row.annual_target),
            survey_weight=float(row.survey_weight), abnormal_streak_months=row.abnormal_streak_months,
        ))
    if not result:
        raise RuntimeError("no scorecard rule set: run `csatbot db upgrade`")
    return result


@dataclass
class ScoreInputs:
    events: dict[tuple[int, str], list[EventInput]]
    figures: dict[tuple[int, str, str], FigureInput]  # (customer id, month, metric)
    register: kpis.Register = field(default_factory=lambda: kpis.Register(()))
    timeliness: dict[tuple[int, str], float] = field(default_factory=dict)
    owned: set[int] = field(default_factory=set)  # customers with an owner, who is asked for their figures
    rate_in_call: bool = True  # the typed KPI rate is in the monthly call


class ScoreBook:
    """Scores for a set of customers over a set of months, from one load."""

    def __init__(self, session: Session, now: dt.datetime | None = None, tz: ZoneInfo | None = None) -> None:
        """`now` and `tz` judge the KPI register: which months have closed, which complaint
        deadlines have passed."""
        self.session = session
        self.rule_sets = load_rule_sets(session)
        self.now = now or dt.datetime.now(dt.UTC)
        self.tz = tz or ZoneInfo(load_defaults()["company"]["timezone"])
        self._calendar: WorkingCalendar | None = None

    def rules_for(self, month: str) -> RuleSet:
        return rule_set_for(self.rule_sets, month)

    def load(self, months: list[str], customer_ids: list[int] | None) -> ScoreInputs:
        first, last = min(months), max(months)
        entered_by = aliased(Person)
        event_query = (
            select(ScorecardEvent.id, ScorecardEvent.customer_id, ScorecardEvent.event_type, ScorecardEvent.event_date,
                   ScorecardEvent.count, ScorecardEvent.note, Complaint.number, entered_by.name,
                   ScorecardEvent.entered_at, ScorecardEvent.source)
            .outerjoin(Complaint, Complaint.id == ScorecardEvent.complaint_id)
            .outerjoin(entered_by, entered_by.id == ScorecardEvent.entered_by_id)
            .where(ScorecardEvent.is_current.is_(True), ScorecardEvent.event_date >= month_start(first),
                   ScorecardEvent.event_date <= month_end(last))
        )
        if customer_ids is not None:
            event_query = event_query.where(ScorecardEvent.customer_id.in_(customer_ids))
        events: dict[tuple[int, str], list[EventInput]] = defaultdict(list)
        for row in self.session.execute(event_query):
            events[(row[1], month_of(row[3]))].append(EventInput(
                id=row[0], event_type=row[2], event_date=row[3], count=row[4], note=row[5], complaint_number=row[6],
                entered_by=row[7], entered_at=as_utc(row[8]), source=row[9]))
        register = kpis.Register.load(self.session, customer_ids)
        submitter = aliased(Person)
        figure_query = (
            select(FigureSubmission.customer_id, FigureSubmission.period, FigureSubmission.metric_key,
                   FigureSubmission.value, submitter.name, FigureSubmission.submitted_at, FigureSubmission.source)
            .outerjoin(submitter, submitter.id == FigureSubmission.submitted_by_id)
            .where(FigureSubmission.is_current.is_(True), FigureSubmission.period >= first,
                   FigureSubmission.period <= last, FigureSubmission.customer_id.is_not(None),
                   FigureSubmission.metric_key.in_((KPI, CUSTOMER_SCORECARD, *DELIVERIES,
                                                    *(kpis.figures_needed(register) if register.customer_ids else ()))))
        )
        if customer_ids is not None:
            figure_query = figure_query.where(FigureSubmission.customer_id.in_(customer_ids))
        figures = {
            (row[0], row[1], row[2]): FigureInput(float(row[3]), row[4], as_utc(row[5]), row[6])
            for row in self.session.execute(figure_query)
        }
        timeliness = (kpis.response_timeliness(self.session, register.customer_ids, months, self.tz, self.now)
                      if register.customer_ids else {})
        owners = select(Customer.id).where(Customer.owner_id.is_not(None))
        if customer_ids is not None:
            owners = owners.where(Customer.id.in_(customer_ids))
        rate = self.session.get(Metric, KPI)
        return ScoreInputs(events, figures, register, timeliness, set(self.session.scalars(owners)),
                           rate is not None and rate.active and rate.in_monthly_call)

    def _kpi_achievement(self, inputs: ScoreInputs, customer_id: int, month: str, closed: bool
                         ) -> kpis.Achievement | None:
        if customer_id not in inputs.register.customer_ids or not inputs.register.covers(customer_id, month):
            return None
        registered = inputs.register.in_force(customer_id, month)
        figures = {kpi.metric: inputs.figures[(customer_id, month, kpi.metric)].value for kpi in registered
                   if (customer_id, month, kpi.metric) in inputs.figures}
        figures.update({key: inputs.figures[(customer_id, month, key)].value for key in kpis.FROM_FIGURE.values()
                        if (customer_id, month, key) in inputs.figures})
        return kpis.judge(registered, figures, inputs.timeliness.get((customer_id, month)), closed,
                          self.missing_at_close)

    def _rate_asked(self, inputs: ScoreInputs, customer_id: int, month: str) -> bool:
        """The typed KPI rate was asked of the customer's owner in the month's call: the
        figure is in the call, the customer has an owner, and the month is not before the
        rate was first required (an installation's history keeps the rule it had)."""
        return (inputs.rate_in_call and customer_id in inputs.owned
                and month >= str(self.call_settings.get("kpi_rate_required_from") or "0000-01"))

    def _closed(self, month: str, today: dt.date) -> bool:
        if self._calendar is None:
            self._calendar = WorkingCalendar.load(self.session)
        return today >= close_date(self._calendar, month, self.call_settings)

    @cached_property
    def call_settings(self) -> dict[str, Any]:
        return data_call_settings(self.session)

    @property
    def missing_at_close(self) -> str:
        return str(self.call_settings.get("kpi_missing_at_close", "not_met"))

    def monthly(self, customers: dict[int, str], months: list[str],
                inputs: ScoreInputs | None = None) -> dict[tuple[int, str], MonthlyScore]:
        """Scores of the months that are evaluated: a month with deliveries or any scorecard
        input. An idle month is not scored at all."""
        inputs = inputs or self.load(months, list(customers))
        scores = {}
        today = self.now.astimezone(self.tz).date()
        for month in months:
            rules = self.rules_for(month)
            closed = self._closed(month, today)
            for customer_id, code in customers.items():
                events = inputs.events.get((customer_id, month), [])
                kpi = inputs.figures.get((customer_id, month, KPI))
                card = inputs.figures.get((customer_id, month, CUSTOMER_SCORECARD))
                deliveries = sum(inputs.figures[(customer_id, month, k)].value
                                 for k in DELIVERIES if (customer_id, month, k) in inputs.figures)
                judged = self._kpi_achievement(inputs, customer_id, month, closed)
                # a KPI figure handed in is scorecard input; a computed one is not (an idle month stays idle)
                known_kpi = judged is not None and any(r.source == "figure" for r in judged.results)
                if not events and kpi is None and card is None and deliveries <= 0 and not known_kpi:
                    continue
                provisional, missing = False, []
                if judged is not None:  # the register replaces a typed rate
                    kpi = FigureInput(judged.rate, source="kpi_register") if judged.rate is not None else None
                    provisional, missing = judged.provisional, judged.missing
                elif kpi is None and self._rate_asked(inputs, customer_id, month):
                    # a forgotten rate is not full marks: chased, then not met at close
                    missing = [KPI]
                    provisional = not closed
                    if closed and self.missing_at_close == "not_met":
                        kpi = FigureInput(0.0, source="missing")
                scores[(customer_id, month)] = score_month(
                    rules, code, month, events, kpi, card, kpi_results=judged.results if judged else (),
                    provisional=provisional, kpi_missing=missing)
        return scores

    def survey_scores(self, year: int, customer_ids: list[int] | None,
                      months: tuple[str, str] | None = None) -> dict[int, float]:
        """The year's survey score per customer: the mean of the year's surveys (of the
        months from `months[0]` to `months[1]` when given: a quarter's)."""
        first, last = months or (f"{year}-01", f"{year}-12")
        query = (
            select(FigureSubmission.customer_id, FigureSubmission.period, FigureSubmission.value)
            .where(FigureSubmission.metric_key == SURVEY, FigureSubmission.is_current.is_(True),
                   FigureSubmission.period >= first, FigureSubmission.period <= last)
            .order_by(FigureSubmission.period)
        )
        if customer_ids is not None:
            query = query.where(FigureSubmission.customer_id.in_(customer_ids))
        scores: dict[int, list[float]] = defaultdict(list)
        for row in self.session.execute(query):
            if row[0] is not None:
                scores[row[0]].append(float(row[2]))
        return {cid: round(sum(values) / len(values), 2) for cid, values in scores.items()}

    def annual(self, customers: dict[int, str], year: int) -> dict[int, AnnualScore]:
        months = months_of_year(year)
        monthly = self.monthly(customers, months)
        surveys = self.survey_scores(year, list(customers))
        rules = self.rules_for(f"{year}-12")
        by_customer: dict[int, list[MonthlyScore]] = defaultdict(list)
        for (customer_id, _month), score in monthly.items():
            by_customer[customer_id].append(score)
        return {cid: score_year(rules, code, year, by_customer.get(cid, []), surveys.get(cid))
                for cid, code in customers.items()}


# --- finding a customer by what a person types --------------------------------------------------------


# --- corrective actions the rules open -------------------------------------------------------------


