"""Changing the scorecard rules without SQL: a change is a new rule set version valid from a
month, copied from the one in force then, so every earlier month keeps the rules it was
scored with (SPEC §2, §3). The command line, the dialog and a TOML file all come here."""

from __future__ import annotations

import datetime as dt
import difflib
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.caller import Caller
from bot.core.i18n import pick
from bot.core.periods import add_months, is_month, month_start
from bot.core.texts import T, Text, UserError, join_texts
from bot.core.views import Form, FormField, Option
from bot.datacall.figures import decimal_places
from bot.scorecard.answers import CATEGORY_NAMES
from bot.scorecard.book import load_rule_sets
from bot.scorecard.engine import CATEGORIES, EVENT_CATEGORIES, RuleSet, rule_set_for
from storage.models import GradeBand, ScorecardRule, ScorecardRuleSet

SCALARS = ("monthly_target", "annual_target", "survey_weight", "abnormal_streak_months")
MAX_STREAK = 24  # months in a row; the action job looks back four times as far


@dataclass
class Draft:
    """A rule set being changed: plain values, checked as a whole before it is stored."""

    name: str
    categories: dict[str, Decimal]
    monthly_target: Decimal
    annual_target: Decimal
    survey_weight: Decimal
    abnormal_streak_months: int
    events: dict[str, dict[str, Any]]  # key -> category, points, name_zh, name_en
    grades: dict[str, dict[str, Any]]  # key -> min_score, name_zh, name_en

    @classmethod
    def of(cls, rules: RuleSet, name: str) -> Draft:
        return cls(
            name=name, categories={k: Decimal(str(v)) for k, v in rules.category_points.items()},
            monthly_target=Decimal(str(rules.monthly_target)), annual_target=Decimal(str(rules.annual_target)),
            survey_weight=Decimal(str(rules.survey_weight)), abnormal_streak_months=rules.abnormal_streak_months,
            events={k: {"category": r.category, "points": Decimal(str(r.points)), "name_zh": r.name_zh,
                        "name_en": r.name_en} for k, r in rules.events.items()},
            grades={g.key: {"min_score": Decimal(str(g.min_score)), "name_zh": g.name_zh, "name_en": g.name_en}
                    for g in rules.grades})

    def keys(self) -> list[str]:
        return (list(SCALARS) + [f"category.{c}" for c in self.categories] + [f"event.{e}" for e in self.events]
                + [f"grade.{g}" for g in self.grades])

    def get(self, key: str) -> Decimal | int:
        kind, _, name = key.partition(".")
        if kind == "category":
            return self.categories[name]
        if kind == "event":
            return self.events[name]["points"]  # type: ignore[no-any-return]
        if kind == "grade":
            return self.grades[name]["min_score"]  # type: ignore[no-any-return]
        return getattr(self, key)  # type: ignore[no-any-return]

    def set(self, key: str, raw: str) -> Text | None:
        """Sets one value; the problem in words when the key or value is wrong."""
        if key not in self.keys():
            near = difflib.get_close_matches(key, self.keys(), n=1)
            return (T("Unknown rule {key!r}: did you mean {near}?", key=key, near=near[0]) if near
                    else T("Unknown rule {key!r}. Known: {known}", key=key, known=", ".join(self.keys())))
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            return T("{key}: {value!r} is not a number.", key=key, value=raw)
        if not value.is_finite() or value < 0 or value > 100:
            return T("{key}: {value!r} is not a number from 0 to 100.", key=key, value=raw)
        kind, _, name = key.partition(".")
        places = 3 if key == "survey_weight" else 0 if key == "abnormal_streak_months" else 2
        if decimal_places(value) > places:  # the columns keep no more: never rounded silently
            return T("{key}: {value!r} has more decimal places than it keeps ({places} at most).", key=key, value=raw,
                     places=places)
        if kind == "category":
            self.categories[name] = value
        elif kind == "event":
            self.events[name]["points"] = value
        elif kind == "grade":
            self.grades[name]["min_score"] = value
        elif key == "abnormal_streak_months":
            if value != value.to_integral_value() or not 1 <= value <= MAX_STREAK:
                return T("{key}: {value!r} must be a whole number of months from 1 to {most}.", key=key, value=raw,
                         most=MAX_STREAK)
            self.abnormal_streak_months = int(value)
        else:
            setattr(self, key, value)
        return None

    def problems(self) -> list[Text]:
        """What makes the set unusable as a whole."""
        found: list[Text] = []
        if set(self.categories) != set(CATEGORIES):
            found.append(T("The categories must be {names}.", names=", ".join(CATEGORIES)))
        elif sum(self.categories.values()) != 100:
            found.append(T("The category points add up to {total}, not 100.", total=_plain(sum(
                self.categories.values()))))
        for key, value in (("monthly_target", self.monthly_target), ("annual_target", self.annual_target)):
            if not 0 <= value <= 100:
                found.append(T("{key} must be between 0 and 100.", key=key))
        if not 0 <= self.survey_weight <= 1:
            found.append(T("survey_weight is a share between 0 and 1 (0.5 is half)."))
        for key, event in self.events.items():
            if event["category"] not in EVENT_CATEGORIES:
                found.append(T("event.{key}: category {category!r} must be quality or delivery.", key=key,
                               category=event["category"]))
            if event["points"] > self.categories.get(event["category"], Decimal(100)):
                found.append(T("event.{key}: {points} points is more than its category holds.", key=key,
                               points=_plain(event["points"])))
        for key, event in self.events.items():
            if len(key) > 64 or len(event["name_zh"]) > 200 or len(event["name_en"]) > 200:
                found.append(T("event.{key}: a key of up to 64 characters and names of up to 200.", key=key[:64]))
        for key, grade in self.grades.items():
            if len(key) > 32 or len(grade["name_zh"]) > 64 or len(grade["name_en"]) > 64:
                found.append(T("grade.{key}: a key of up to 32 characters and names of up to 64.", key=key[:32]))
        minimums = sorted(g["min_score"] for g in self.grades.values())
        if not self.grades or minimums[0] != 0:
            found.append(T("The lowest grade must start at 0, so every score has a grade."))
        if len(set(minimums)) != len(minimums) or minimums[-1] > 100:
            found.append(T("Grade minimums must differ and lie between 0 and 100."))
        return found


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


class RulesRefused(UserError):
    """Nothing was stored; `by_key` says what is wrong with which value (a dialog shows it at
    the field), `general` what is wrong with the set as a whole."""

    def __init__(self, by_key: dict[str, Text], general: list[Text]) -> None:
        super().__init__(T("The rules were not changed: {problems}",
                           problems=join_texts(list(by_key.values()) + general)))
        self.by_key = by_key
        self.general = general


def _apply(draft: Draft, changes: dict[str, str]) -> None:
    by_key = {key: problem for key, raw in changes.items() if (problem := draft.set(key, raw)) is not None}
    general = draft.problems() if not by_key else []
    if by_key or general:
        raise RulesRefused(by_key, general)


def in_force(session: Session, month: str) -> tuple[RuleSet, ScorecardRuleSet]:
    rule_sets = load_rule_sets(session)
    rules = rule_set_for(rule_sets, month)
    row = session.scalar(select(ScorecardRuleSet).where(ScorecardRuleSet.version == rules.version))
    assert row is not None
    return rules, row


def describe(rules: RuleSet) -> dict[str, Any]:
    return {
        "version": rules.version, "valid_from": rules.valid_from.isoformat(),
        "categories": rules.category_points, "monthly_target": rules.monthly_target,
        "annual_target": rules.annual_target, "survey_weight": rules.survey_weight,
        "abnormal_streak_months": rules.abnormal_streak_months,
        "events": [{"key": e.event_type, "category": e.category, "points": e.points, "name_zh": e.name_zh,
                    "name_en": e.name_en} for e in rules.events.values()],
        "grades": [{"key": g.key, "min_score": g.min_score, "name_zh": g.name_zh, "name_en": g.name_en}
                   for g in rules.grades],
    }


def versions(session: Session) -> list[dict[str, Any]]:
    return [describe(r) for r in load_rule_sets(session)]


@dataclass(frozen=True)
class NewVersion:
    version: int | None  # None: nothing changed, no version added
    valid_from: str
    changed: dict[str, tuple[str, str]]  # key -> (before, after)
    until: str | None = None  # a later version already in place from this month: the change stops there


def change_rules(session: Session, valid_from: str, changes: dict[str, str], now: dt.datetime,
                 by: int | None = None) -> NewVersion:
    """A new version from `valid_from` with `changes` (`monthly_target`, `event.line_hold`,
    `grade.satisfied`, `category.kpi`, …) applied to the set in force then. Every problem is
    reported at once; nothing is stored unless the whole set is sound."""
    if not is_month(valid_from):
        raise UserError(T("Month {value!r} is not YYYY-MM.", value=valid_from))
    rules, row = in_force(session, valid_from)
    draft = Draft.of(rules, row.name)
    before = {key: _plain(Decimal(str(draft.get(key)))) for key in draft.keys()}
    _apply(draft, changes)
    return _store(session, draft, valid_from, before, now, by)


def import_rules(session: Session, path: Path, valid_from: str, now: dt.datetime,
                 by: int | None = None) -> NewVersion:
    """A whole rule set from a TOML file in the form of `[scorecard]` and `[[grades]]` in
    the defaults; what the file leaves out stays as in the set in force."""
    if not path.is_file():
        raise UserError(T("File not found: {path}", path=str(path)))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(T("{path} is not a TOML file: {error}", path=path.name, error=str(error))) from None
    if not is_month(valid_from):
        raise UserError(T("Month {value!r} is not YYYY-MM.", value=valid_from))
    scorecard = data.get("scorecard", {})
    if not isinstance(scorecard, dict) or not isinstance(scorecard.get("categories", {}), dict) or any(
            not isinstance(scorecard.get(k, []), list) for k in ("events",)) or not isinstance(
            data.get("grades", []), list):
        raise UserError(T("{path}: [scorecard] and [scorecard.categories] must be tables, [[scorecard.events]] "
                          "and [[grades]] lists of tables, as in the defaults.", path=path.name))
    rules, row = in_force(session, valid_from)
    draft = Draft.of(rules, str(scorecard.get("name") or row.name)[:200])
    before = {key: _plain(Decimal(str(draft.get(key)))) for key in draft.keys()}
    changes: dict[str, str] = {key: str(scorecard[key]) for key in SCALARS if key in scorecard}
    changes.update({f"category.{k}": str(v) for k, v in dict(scorecard.get("categories", {})).items()})
    try:
        for event in scorecard.get("events", []):
            key = str(event["key"])
            if key not in draft.events:  # a new event type
                draft.events[key] = {"category": str(event.get("category", "")), "points": Decimal(0),
                                     "name_zh": str(event.get("name_zh") or key),
                                     "name_en": str(event.get("name_en") or key)}
            draft.events[key].update({k: str(event[k]) for k in ("category", "name_zh", "name_en") if k in event})
            if "points" in event:
                changes[f"event.{key}"] = str(event["points"])
        for grade in data.get("grades", []):
            key = str(grade["key"])
            draft.grades.setdefault(key, {"min_score": Decimal(0), "name_zh": key, "name_en": key})
            draft.grades[key].update({k: str(grade[k]) for k in ("name_zh", "name_en") if k in grade})
            if "min_score" in grade:
                changes[f"grade.{key}"] = str(grade["min_score"])
    except (KeyError, TypeError, AttributeError, ValueError):
        raise UserError(T("{path}: every event and grade needs a key.", path=path.name)) from None
    _apply(draft, changes)
    return _store(session, draft, valid_from, before, now, by)


def _store(session: Session, draft: Draft, valid_from: str, before: dict[str, str], now: dt.datetime,
           by: int | None) -> NewVersion:
    after = {key: _plain(Decimal(str(draft.get(key)))) for key in draft.keys()}
    changed = {key: (before.get(key, "—"), value) for key, value in after.items() if before.get(key) != value}
    if not changed:
        return NewVersion(None, valid_from, {})
    version = (session.scalar(select(func.max(ScorecardRuleSet.version))) or 0) + 1
    rule_set = ScorecardRuleSet(
        version=version, name=draft.name, valid_from=month_start(valid_from),
        category_points={k: float(v) for k, v in draft.categories.items()},
        monthly_target=draft.monthly_target, annual_target=draft.annual_target, survey_weight=draft.survey_weight,
        abnormal_streak_months=draft.abnormal_streak_months, created_at=now, created_by_id=by)
    rule_set.rules = [ScorecardRule(event_type=key, category=e["category"], points=e["points"], name_zh=e["name_zh"],
                                    name_en=e["name_en"]) for key, e in draft.events.items()]
    rule_set.grades = [GradeBand(key=key, min_score=g["min_score"], name_zh=g["name_zh"], name_en=g["name_en"])
                       for key, g in draft.grades.items()]
    session.add(rule_set)
    session.flush()
    later = session.scalar(select(func.min(ScorecardRuleSet.valid_from)).where(
        ScorecardRuleSet.valid_from > month_start(valid_from)))
    return NewVersion(version, valid_from, changed, later.strftime("%Y-%m") if later else None)


# --- the dialog --------------------------------------------------------------------------------------


def rules_form(rules: RuleSet, caller: Caller, this_month: str) -> Form:
    """Every value a quality engineer may change, pre-filled with the rules in force now;
    only what is changed goes into the new version."""
    _ = caller._
    months = [add_months(this_month, i) for i in range(0, 13)]
    draft = Draft.of(rules, "")

    def number(key: str, label: str, low: float, high: float, hint: str = "") -> FormField:
        return FormField(key, label, "number", initial=_plain(Decimal(str(draft.get(key)))), min_value=low,
                         max_value=high, hint=hint)

    fields = [
        FormField("valid_from", _("Valid from"), "select", initial=months[1] if len(months) > 1 else months[0],
                  options=[Option(m, m) for m in months],
                  hint=_("Months before it keep the rules they were scored with.")),
        number("monthly_target", _("Monthly target"), 0, 100),
        number("annual_target", _("Annual target"), 0, 100),
    ]
    lowest = min(rules.grades, key=lambda g: g.min_score).key if rules.grades else None
    for grade in rules.grades:
        if grade.key != lowest:
            fields.append(number(f"grade.{grade.key}", _("Grade from: {name}").format(
                name=pick(caller.locale, grade.name_zh, grade.name_en)), 0, 100))
    for category in CATEGORIES:
        fields.append(number(f"category.{category}", _("Points for: {name}").format(
            name=_(CATEGORY_NAMES[category])), 0, 100, _("The four add up to 100.") if category == "quality" else ""))
    for key, event in rules.events.items():
        fields.append(number(f"event.{key}", _("Points off: {name} ({category})").format(
            name=pick(caller.locale, event.name_zh, event.name_en), category=_(CATEGORY_NAMES[event.category])),
            0, 100))
    fields.append(number("survey_weight", _("Survey weight in the annual score"), 0, 1, _("0.5 is half.")))
    fields.append(number("abnormal_streak_months", _("Months in a row that open a corrective action"), 1, 24))
    return Form(kind="scorecard.rules", title=_("Scorecard rules"), submit=_("Save"), close=_("Cancel"),
                fields=fields, intro=_("Rule set version {version} is in force now. A change makes a new version "
                                       "from the month you choose.").format(version=rules.version),
                state={"version": rules.version})


def changes_from_form(session: Session, shown_version: object, values: dict[str, Any]) -> dict[str, str]:
    """What the person changed: the values that differ from the version the dialog showed."""
    shown = next((r for r in load_rule_sets(session) if r.version == shown_version), None)
    if shown is None:
        return {k: str(v) for k, v in values.items() if k != "valid_from" and v not in (None, "")}
    draft = Draft.of(shown, "")
    changes = {}
    for key in draft.keys():
        raw = values.get(key)
        if raw in (None, ""):
            continue
        try:
            if Decimal(str(raw)) == Decimal(str(draft.get(key))):
                continue
        except InvalidOperation:
            pass
        changes[key] = str(raw)
    return changes


def field_for_problem(problem: Text, keys: list[str]) -> str:
    """Where a problem with the whole set is shown in the dialog: at the first field of the
    part it is about."""
    template = problem.template.lower()
    for part in ("event", "category", "grade", "survey_weight"):
        if part in template:
            return next((k for k in keys if k.startswith(part)), keys[0])
    return "monthly_target" if "monthly_target" in keys else keys[0]
