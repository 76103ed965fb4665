"""The readable defaults file (defaults.toml) and seeding it into a database once."""

from __future__ import annotations

import datetime as dt
import functools
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import insert_ignoring_conflicts
from storage.models import (
    GradeBand,
    Metric,
    Role,
    ScorecardRule,
    ScorecardRuleSet,
    SettingValue,
    SlaPolicy,
)

DEFAULTS_FILE = Path(__file__).parent / "defaults.toml"


@functools.cache
def load_defaults(path: str = str(DEFAULTS_FILE)) -> dict[str, Any]:
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def seed_defaults(session: Session, defaults: dict[str, Any] | None = None) -> dict[str, int]:
    """Insert what is missing; never overwrite what a company has edited. Running it twice
    changes nothing. Returns how many rows of each kind were added."""
    data = defaults or load_defaults()
    added: dict[str, int] = {}
    added["roles"] = insert_ignoring_conflicts(
        session, Role, [{"key": r["key"], "name_zh": r["name_zh"], "name_en": r["name_en"]} for r in data["roles"]]
    )
    added["metrics"] = insert_ignoring_conflicts(
        session,
        Metric,
        [
            {
                "key": m["key"],
                "name_zh": m["name_zh"],
                "name_en": m["name_en"],
                "unit": m["unit"],
                "min_value": Decimal(str(m["min"])),
                "max_value": Decimal(str(m["max"])),
                "higher_is_better": m["higher_is_better"],
                "owner_role": m["owner_role"],
                "scope": m["scope"],
                "visibility": m.get("visibility", "all"),
                "in_monthly_call": m.get("in_monthly_call", True),
                "target": Decimal(str(m["target"])) if "target" in m else None,
                "active": True,
                "sort_order": index,
            }
            for index, m in enumerate(data["metrics"])
        ],
    )
    added["scorecard_rule_sets"] = _seed_rule_set(session, data["scorecard"], data["grades"])
    added["sla_policies"] = insert_ignoring_conflicts(
        session,
        SlaPolicy,
        [
            {"customer_id": None, "customer_key": "*", "milestone": p["milestone"], "severity": p["severity"],
             "amount": p["amount"], "unit": p["unit"]}
            for p in data["complaints"]["sla"]
        ],
    )
    complaint_settings = {k: v for k, v in data["complaints"].items() if k != "sla"}
    added["settings"] = insert_ignoring_conflicts(
        session,
        SettingValue,
        [
            {"key": "complaints", "value": complaint_settings, "updated_at": dt.datetime.now(dt.UTC)},
            {"key": "data_call", "value": dict(data["data_call"]), "updated_at": dt.datetime.now(dt.UTC)},
        ],
    )
    return added


def _seed_rule_set(session: Session, scorecard: dict[str, Any], grades: list[dict[str, Any]]) -> int:
    exists = session.scalar(select(ScorecardRuleSet.id).where(ScorecardRuleSet.version == scorecard["version"]))
    if exists is not None:
        return 0
    rule_set = ScorecardRuleSet(
        version=scorecard["version"],
        name=scorecard["name"],
        valid_from=dt.date.fromisoformat(scorecard["valid_from"]),
        category_points=dict(scorecard["categories"]),
        monthly_target=Decimal(str(scorecard["monthly_target"])),
        annual_target=Decimal(str(scorecard["annual_target"])),
        survey_weight=Decimal(str(scorecard["survey_weight"])),
        abnormal_streak_months=scorecard["abnormal_streak_months"],
    )
    rule_set.rules = [
        ScorecardRule(event_type=e["key"], category=e["category"], points=Decimal(str(e["points"])),
                      name_zh=e["name_zh"], name_en=e["name_en"])
        for e in scorecard["events"]
    ]
    rule_set.grades = [
        GradeBand(key=g["key"], min_score=Decimal(str(g["min_score"])), name_zh=g["name_zh"], name_en=g["name_en"])
        for g in grades
    ]
    session.add(rule_set)
    session.flush()
    return 1
