"""The 100-point monthly customer scorecard, grades and annual scores (SPEC §2, §3).

Pure: it takes rules, events and figures as plain values and returns scores that carry
their own explanation, so every lost point can be traced to the event and the person
behind it. Loading from the database is the score book's (bot/scorecard/book.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.periods import add_months, month_start

CATEGORIES = ("quality", "delivery", "kpi", "customer_scorecard")
EVENT_CATEGORIES = ("quality", "delivery")


@dataclass(frozen=True)
class EventRule:
    event_type: str
    category: str
    points: float
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class GradeRule:
    key: str
    min_score: float
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class RuleSet:
    version: int
    valid_from: dt.date
    category_points: dict[str, float]
    events: dict[str, EventRule]
    grades: tuple[GradeRule, ...]  # highest minimum first
    monthly_target: float
    annual_target: float
    survey_weight: float
    abnormal_streak_months: int

    def grade(self, score: float) -> GradeRule:
        for band in self.grades:
            if score >= band.min_score:
                return band
        return self.grades[-1]


def rule_set_for(rule_sets: Sequence[RuleSet], month: str) -> RuleSet:
    """The rule set in force in a month: the latest whose valid_from is on or before its first day."""
    first_day = month_start(month)
    candidates = [r for r in rule_sets if r.valid_from <= first_day]
    if not candidates:
        candidates = [min(rule_sets, key=lambda r: r.valid_from)]
    return max(candidates, key=lambda r: (r.valid_from, r.version))


@dataclass(frozen=True)
class EventInput:
    id: int
    event_type: str
    event_date: dt.date
    count: int
    note: str | None = None
    complaint_number: str | None = None
    entered_by: str | None = None
    entered_at: dt.datetime | None = None
    source: str = "dialog"


@dataclass(frozen=True)
class FigureInput:
    value: float
    submitted_by: str | None = None
    submitted_at: dt.datetime | None = None
    source: str = "dialog"


@dataclass(frozen=True)
class Deduction:
    category: str
    event_type: str
    points: float  # positive: what was taken off
    count: int
    event: EventInput


@dataclass
class MonthlyScore:
    customer: str
    month: str
    rule_set_version: int
    quality: float
    delivery: float
    kpi: float
    customer_scorecard: float
    total: float
    grade: str
    deductions: list[Deduction]
    kpi_figure: FigureInput | None
    scorecard_figure: FigureInput | None
    lost: dict[str, float] = field(default_factory=dict)  # category -> points lost (after the floor)
    # the customer's KPI register judged for the month (empty without a register): objects
    # with `to_json()` and `.source`, `.kpi.kpi`; provisional while a KPI is not known yet
    kpi_results: tuple[Any, ...] = ()
    provisional: bool = False
    kpi_missing: list[str] = field(default_factory=list)  # KPI figures not handed in (keys)

    def to_json(self) -> dict[str, object]:
        return {
            "customer": self.customer,
            "month": self.month,
            "rule_set_version": self.rule_set_version,
            "quality": self.quality,
            "delivery": self.delivery,
            "kpi": self.kpi,
            "customer_scorecard": self.customer_scorecard,
            "total": self.total,
            "grade": self.grade,
            "deductions": [
                {"category": d.category, "type": d.event_type, "points": d.points, "count": d.count,
                 "date": d.event.event_date.isoformat(), "event_id": d.event.id, "note": d.event.note,
                 "complaint": d.event.complaint_number, "entered_by": d.event.entered_by,
                 "entered_at": d.event.entered_at.isoformat() if d.event.entered_at else None,
                 "source": d.event.source}
                for d in self.deductions
            ],
            "kpi_achievement_rate": self.kpi_figure.value if self.kpi_figure else None,
            "customer_scorecard_pct": self.scorecard_figure.value if self.scorecard_figure else None,
            "kpis": [r.to_json() for r in self.kpi_results],
            "provisional": self.provisional,
            "kpi_missing": self.kpi_missing,
        }


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def score_month(
    rules: RuleSet,
    customer: str,
    month: str,
    events: Iterable[EventInput],
    kpi_rate: FigureInput | None,
    scorecard_pct: FigureInput | None,
    kpi_results: tuple[Any, ...] = (),
    provisional: bool = False,
    kpi_missing: list[str] | None = None,
) -> MonthlyScore:
    """One customer's month. Categories never go below 0; a customer that gave no scorecard
    keeps full marks for it, and so does a month without a KPI figure (shown as missing)."""
    deductions: list[Deduction] = []
    raw_lost = {c: 0.0 for c in EVENT_CATEGORIES}
    for event in sorted(events, key=lambda e: (e.event_date, e.id)):
        rule = rules.events.get(event.event_type)
        if rule is None or event.count <= 0:
            continue
        points = rule.points * event.count
        raw_lost[rule.category] += points
        deductions.append(Deduction(rule.category, event.event_type, points, event.count, event))
    full = rules.category_points
    quality = max(0.0, full["quality"] - raw_lost["quality"])
    delivery = max(0.0, full["delivery"] - raw_lost["delivery"])
    kpi = full["kpi"] * (min(100.0, max(0.0, kpi_rate.value)) / 100.0) if kpi_rate else full["kpi"]
    customer_scorecard = (full["customer_scorecard"] * min(100.0, max(0.0, scorecard_pct.value)) / 100.0
                          if scorecard_pct else full["customer_scorecard"])
    total = quality + delivery + kpi + customer_scorecard
    lost = {
        "quality": _round(full["quality"] - quality),
        "delivery": _round(full["delivery"] - delivery),
        "kpi": _round(full["kpi"] - kpi),
        "customer_scorecard": _round(full["customer_scorecard"] - customer_scorecard),
    }
    return MonthlyScore(
        customer=customer, month=month, rule_set_version=rules.version, quality=_round(quality),
        delivery=_round(delivery), kpi=_round(kpi), customer_scorecard=_round(customer_scorecard),
        total=_round(total), grade=rules.grade(_round(total)).key, deductions=deductions, kpi_figure=kpi_rate,
        scorecard_figure=scorecard_pct, lost=lost, kpi_results=kpi_results, provisional=provisional,
        kpi_missing=kpi_missing or [],
    )


@dataclass
class AnnualScore:
    customer: str
    year: int
    months: list[str]
    monthly_mean: float | None
    survey_score: float | None
    survey_weight: float
    annual: float | None
    grade: str | None
    rule_set_version: int

    def to_json(self) -> dict[str, object]:
        return {"customer": self.customer, "year": self.year, "months": len(self.months),
                "months_evaluated": self.months, "monthly_mean": self.monthly_mean,
                "survey_score": self.survey_score, "survey_weight": self.survey_weight,
                "annual": self.annual, "grade": self.grade, "rule_set_version": self.rule_set_version}


def score_year(rules: RuleSet, customer: str, year: int, monthly: Sequence[MonthlyScore],
               survey_score: float | None) -> AnnualScore:
    """Mean over the months evaluated; blended with the year's survey score when there is one."""
    months = sorted(m.month for m in monthly)
    mean = _round(sum(m.total for m in monthly) / len(monthly)) if monthly else None
    if mean is None:
        annual = survey_score
    elif survey_score is None:
        annual = mean
    else:
        annual = _round((1 - rules.survey_weight) * mean + rules.survey_weight * survey_score)
    grade = rules.grade(annual).key if annual is not None else None
    return AnnualScore(customer, year, months, mean, survey_score, rules.survey_weight, annual, grade,
                       rules.version)


# --- rules that open corrective actions ---------------------------------------------------------------


@dataclass(frozen=True)
class ActionTrigger:
    key: str  # stable: a rule never opens the same action twice
    kind: str  # scorecard_streak | monthly_below_target | annual_below_target
    customer: str
    detail: dict[str, object]


def lost_points(score: MonthlyScore, category: str) -> bool:
    return score.lost.get(category, 0) > 0


def streak_triggers(customer: str, scores_by_month: dict[str, MonthlyScore], month: str, streak: int,
                    abnormal: Callable[[MonthlyScore, str], bool] = lost_points) -> list[ActionTrigger]:
    """A category abnormal in `streak` consecutive months up to `month`. The key names the
    month the run began, so a run that goes on opens one action, not one a month."""
    triggers = []
    for category in CATEGORIES:
        run = []
        current = month
        while current in scores_by_month and abnormal(scores_by_month[current], category):
            run.append(current)
            current = add_months(current, -1)
        if len(run) >= streak:
            start = run[-1]
            triggers.append(ActionTrigger(
                key=f"scorecard_streak:{customer}:{category}:{start}", kind="scorecard_streak", customer=customer,
                detail={"category": category, "months": sorted(run), "streak": streak},
            ))
    return triggers


def monthly_target_trigger(score: MonthlyScore, target: float) -> ActionTrigger | None:
    if score.total >= target:
        return None
    return ActionTrigger(key=f"monthly_below_target:{score.customer}:{score.month}", kind="monthly_below_target",
                         customer=score.customer, detail={"month": score.month, "total": score.total, "target": target})


def annual_target_trigger(score: AnnualScore, target: float) -> ActionTrigger | None:
    if score.annual is None or score.annual >= target:
        return None
    return ActionTrigger(key=f"annual_below_target:{score.customer}:{score.year}", kind="annual_below_target",
                         customer=score.customer,
                         detail={"year": score.year, "annual": score.annual, "target": target})


# --- XmR (individuals and moving range) ------------------------------------------------------------


@dataclass(frozen=True)
class ControlLimits:
    mean: float
    moving_range_mean: float
    upper: float
    lower: float
    signals: tuple[int, ...]  # indexes of points outside the limits


def xmr_limits(values: Sequence[float], floor: float | None = None) -> ControlLimits | None:
    """x̄ ± 2.66·mR̄; None with fewer than two points."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    mr = sum(ranges) / len(ranges)
    upper = mean + 2.66 * mr
    lower = mean - 2.66 * mr
    if floor is not None:
        lower = max(floor, lower)
    signals = tuple(i for i, v in enumerate(values) if v > upper + 1e-9 or v < lower - 1e-9)
    return ControlLimits(_round(mean), _round(mr), _round(upper), _round(lower), signals)
