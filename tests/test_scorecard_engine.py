"""The scorecard rules of 004 §7.1 and 000 §5.4, checked on the pure engine."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from bot.core.periods import add_months
from bot.scorecard.engine import (
    EventInput,
    EventRule,
    FigureInput,
    GradeRule,
    RuleSet,
    annual_target_trigger,
    monthly_target_trigger,
    rule_set_for,
    score_month,
    score_year,
    streak_triggers,
    xmr_limits,
)

DEFAULTS = tomllib.loads((Path(__file__).resolve().parent.parent / "bot" / "core" / "defaults.toml").read_text("utf-8"))


def rules(version: int = 1, valid_from: dt.date = dt.date(2000, 1, 1), overrides: dict | None = None) -> RuleSet:  # type: ignore[type-arg]
    card = DEFAULTS["scorecard"]
    events = {e["key"]: EventRule(e["key"], e["category"], float(e["points"]), e["name_zh"], e["name_en"])
              for e in card["events"]}
    for key, points in (overrides or {}).items():
        events[key] = EventRule(key, events[key].category, points, events[key].name_zh, events[key].name_en)
    grades = tuple(GradeRule(g["key"], float(g["min_score"]), g["name_zh"], g["name_en"]) for g in DEFAULTS["grades"])
    return RuleSet(version, valid_from, {k: float(v) for k, v in card["categories"].items()}, events, grades,
                   80.0, 80.0, 0.5, 3)


def event(event_type: str, count: int = 1, day: int = 10, id_: int = 1) -> EventInput:
    return EventInput(id=id_, event_type=event_type, event_date=dt.date(2026, 9, day), count=count, entered_by="王静")


# The procedure's own table: each event's deduction and its category.
PROCEDURE = [
    ("partial_return", "quality", 3), ("full_return", "quality", 5), ("concession", "quality", 2),
    ("repeat_notice", "quality", 3), ("line_hold", "quality", 5), ("production_stop", "quality", 10),
    ("quality_notice_rectification", "quality", 5), ("quality_notice_suspension", "quality", 10),
    ("quality_excess_freight", "quality", 3),
    ("late_notified", "delivery", 3), ("late_unnotified", "delivery", 5), ("late_complaint", "delivery", 3),
    ("late_interruption", "delivery", 10), ("packaging_nonconformity", "delivery", 2),
    ("delivery_notice_rectification", "delivery", 3), ("delivery_notice_suspension", "delivery", 8),
    ("delivery_excess_freight", "delivery", 3),
]


@pytest.mark.parametrize(("event_type", "category", "points"), PROCEDURE)
def test_every_event_type_costs_its_points(event_type: str, category: str, points: int) -> None:
    score = score_month(rules(), "ACME", "2026-09", [event(event_type, count=2)], None, None)
    assert score.lost[category] == 2 * points
    other = "delivery" if category == "quality" else "quality"
    assert score.lost[other] == 0
    assert score.total == 100 - 2 * points
    assert score.deductions[0].event.entered_by == "王静"


def test_the_catalogue_has_exactly_the_procedures_events() -> None:
    assert {k for k, _c, _p in PROCEDURE} == set(rules().events)


def test_a_category_never_goes_below_zero() -> None:
    events = [event("production_stop", count=2, id_=1), event("quality_notice_suspension", id_=2),
              event("full_return", count=3, id_=3), event("late_interruption", count=4, id_=4)]
    score = score_month(rules(), "ACME", "2026-09", events, FigureInput(50), FigureInput(90))
    assert score.quality == 0 and score.delivery == 0
    assert score.lost["quality"] == 30 and score.lost["delivery"] == 30
    assert score.kpi == 10 and score.customer_scorecard == 18
    assert score.total == 28 and score.grade == "unsatisfied"
    assert sum(d.points for d in score.deductions) == 10 * 2 + 10 + 15 + 40  # every event still explained


def test_missing_customer_scorecard_is_full_marks_and_kpi_is_a_rate() -> None:
    score = score_month(rules(), "ACME", "2026-09", [], FigureInput(85), None)
    assert score.kpi == 17 and score.customer_scorecard == 20 and score.total == 97
    assert score.grade == "very_satisfied"
    full = score_month(rules(), "ACME", "2026-09", [], None, FigureInput(75))
    assert full.kpi == 20 and full.customer_scorecard == 15


@pytest.mark.parametrize(("score", "grade"), [(100, "very_satisfied"), (90, "very_satisfied"),
                                              (89.99, "satisfied"), (80, "satisfied"), (79.99, "average"),
                                              (60, "average"), (59.99, "unsatisfied"), (0, "unsatisfied")])
def test_grade_bands(score: float, grade: str) -> None:
    assert rules().grade(score).key == grade


def test_a_scored_month_gets_its_grade() -> None:
    score = score_month(rules(), "ACME", "2026-09", [event("production_stop", count=2)], FigureInput(50), None)
    assert score.total == 100 - 20 - 10 and score.grade == "average"


def test_annual_mean_over_months_evaluated_and_survey_blend() -> None:
    months = [score_month(rules(), "ACME", m, [event("line_hold")] if m == "2026-03" else [], None, None)
              for m in ("2026-01", "2026-03", "2026-04")]  # February had no activity: not scored
    annual = score_year(rules(), "ACME", 2026, months, None)
    assert annual.months == ["2026-01", "2026-03", "2026-04"]
    assert annual.monthly_mean == pytest.approx(98.33, abs=0.01) and annual.annual == annual.monthly_mean
    blended = score_year(rules(), "ACME", 2026, months, 80.0)
    assert blended.annual == pytest.approx(0.5 * 98.33 + 0.5 * 80, abs=0.01)
    assert blended.grade == "satisfied"
    nothing = score_year(rules(), "ACME", 2026, [], None)
    assert nothing.annual is None and nothing.grade is None


def test_a_rule_set_change_in_the_middle_of_a_year() -> None:
    old = rules(1, dt.date(2000, 1, 1))
    new = rules(2, dt.date(2026, 7, 1), overrides={"line_hold": 8.0})
    sets = [old, new]
    assert rule_set_for(sets, "2026-06").version == 1
    assert rule_set_for(sets, "2026-07").version == 2
    june = score_month(rule_set_for(sets, "2026-06"), "ACME", "2026-06", [event("line_hold")], None, None)
    july = score_month(rule_set_for(sets, "2026-07"), "ACME", "2026-07", [event("line_hold")], None, None)
    assert (june.total, june.rule_set_version) == (95, 1)
    assert (july.total, july.rule_set_version) == (92, 2)


def test_three_months_in_a_row_opens_one_action_per_run() -> None:
    r = rules()
    scores = {}
    for month in ("2026-05", "2026-06", "2026-07", "2026-08"):
        scores[month] = score_month(r, "ACME", month, [event("packaging_nonconformity")], None, None)
    assert streak_triggers("ACME", scores, "2026-06", 3) == []
    july = streak_triggers("ACME", scores, "2026-07", 3)
    august = streak_triggers("ACME", scores, "2026-08", 3)
    assert [t.detail["category"] for t in july] == ["delivery"]
    assert july[0].key == august[0].key == "scorecard_streak:ACME:delivery:2026-05"
    # a gap ends the run
    scores["2026-06"] = score_month(r, "ACME", "2026-06", [], None, None)
    assert streak_triggers("ACME", scores, "2026-08", 3) == []


def test_targets_open_actions() -> None:
    low = score_month(rules(), "ACME", "2026-09", [event("production_stop"), event("line_hold", id_=2),
                                                   event("late_unnotified", id_=3)], None, None)
    assert low.total == 80
    assert monthly_target_trigger(low, 80) is None
    lower = score_month(rules(), "ACME", "2026-09", [event("production_stop", count=3)], None, None)
    trigger = monthly_target_trigger(lower, 80)
    assert trigger is not None and trigger.key == "monthly_below_target:ACME:2026-09"
    annual = score_year(rules(), "ACME", 2026, [lower], None)
    assert annual_target_trigger(annual, 80) is not None


def test_xmr_limits() -> None:
    values = [10.0, 12.0, 11.0, 13.0, 12.0, 30.0]
    limits = xmr_limits(values, floor=0)
    assert limits is not None
    assert limits.mean == pytest.approx(14.67, abs=0.01)
    assert limits.moving_range_mean == pytest.approx(4.8, abs=0.01)  # (2 + 1 + 2 + 1 + 18) / 5
    assert limits.upper == pytest.approx(14.67 + 2.66 * 4.8, abs=0.02)
    assert limits.lower == pytest.approx(14.67 - 2.66 * 4.8, abs=0.02)
    assert limits.signals == (5,)
    wide = xmr_limits([1.0, 20.0, 1.0, 20.0], floor=0)
    assert wide is not None and wide.lower == 0  # floored at the figure's minimum
    assert xmr_limits([1.0]) is None


def test_month_arithmetic() -> None:
    assert add_months("2026-01", -1) == "2025-12"
    assert add_months("2026-12", 1) == "2027-01"
    assert add_months("2026-09", -12) == "2025-09"


def test_a_score_is_shown_to_one_decimal_and_never_in_a_band_it_is_not_in() -> None:
    from bot.core.texts import score_text

    assert [score_text(v) for v in (79.74, 79.96, 80.0, 85, 100, 0, 59.99, 72.05)] == [
        "79.7", "79.9", "80.0", "85.0", "100.0", "0.0", "59.9", "72.0"]
