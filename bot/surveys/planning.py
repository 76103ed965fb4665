"""Planning a survey in a dialog (`/csat survey new`), with what the plan should answer to
beside it (000 §5.1.2 d): the last survey's unsatisfied points and this period's complaint
and scorecard situation, so that the engineer can add follow-up questions on them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.i18n import Gettext
from bot.core.periods import current_period
from bot.core.spreadsheets import parse_day
from bot.core.texts import T, Text
from bot.core.views import Form, FormField, Option
from bot.surveys.analysis import survey_results
from bot.surveys.answers import QUADRANT_NAMES
from bot.surveys.campaigns import DIMENSION_NAMES, KIND_NAMES, kinds, template_items
from storage.models import SurveyCampaign

FORM_KIND = "survey.new"
FOLLOW_UPS = 5  # questions one plan may add
QUESTION_LENGTH = 300


def last_survey_points(session: Session, _: Gettext) -> list[str]:
    """The last closed survey's weak dimensions: those to concentrate on, and those with the
    largest share unsatisfied."""
    last = session.scalar(select(SurveyCampaign).where(SurveyCampaign.status == "closed")
                          .order_by(SurveyCampaign.closes_on.desc()).limit(1))
    if last is None:
        return [_("No survey has closed yet.")]
    results = survey_results(session, last)
    weak = sorted((d for d in results["dimensions"] if d["unsatisfied"]), key=lambda d: -d["unsatisfied"])[:3]
    lines = [_("Last survey #{id} (closed {day}): CSI {csi}.").format(
        id=last.id, day=last.closes_on.isoformat(), csi="—" if results["csi"] is None else f"{results['csi']:.1f}")]
    lines += [_("{dimension}: {share:.0%} unsatisfied, score {score}").format(
        dimension=_(DIMENSION_NAMES.get(d["key"], d["key"])), share=d["unsatisfied"],
        score="—" if d["score"] is None else f"{d['score']:.1f}") for d in weak]
    focus = [_(DIMENSION_NAMES.get(d["key"], d["key"])) for d in results["dimensions"]
             if d.get("quadrant") == "concentrate_here"]
    if focus:
        lines.append(f"{_(QUADRANT_NAMES['concentrate_here'])}: {', '.join(focus)}")
    return lines


def situation_lines(numbers: dict[str, Any], _: Gettext) -> list[str]:
    """This period's scorecard and complaints, from the month report's numbers."""
    complaints = numbers.get("complaints") or {}
    breached = sum(int(c.get("breached", 0)) for c in (complaints.get("sla") or {}).values())
    mean = numbers.get("mean_score")
    return [_("{period}: mean score {mean}, {below} customer(s) below target; {complaints} complaint(s), {breached} "
              "deadline(s) missed.").format(period=numbers.get("period"), mean="—" if mean is None else f"{mean:.1f}",
                                            below=len(numbers.get("below_target") or []),
                                            complaints=complaints.get("count", 0), breached=breached)]


def plan_form(session: Session, _: Gettext, today: dt.date, context: list[str]) -> Form:
    known = kinds(session)
    items = template_items(session)
    intro = "\n".join([_("The questionnaire has {n} items (`csatbot survey template export` shows them).").format(
        n=len(items)), *context])
    return Form(kind=FORM_KIND, title=_("Plan a survey"), submit=_("Plan it"), close=_("Cancel"), intro=intro, fields=[
        FormField("kind", _("Kind"), "select", options=[Option(k, _(KIND_NAMES.get(k, k))) for k in known],
                  initial="quarterly" if "quarterly" in known else None),
        FormField("opens", _("Opens"), "date", initial=today.isoformat()),
        FormField("closes", _("Closes"), "date", initial=(today + dt.timedelta(days=14)).isoformat()),
        FormField("follow_dimension", _("Follow-up questions are about"), "select", required=False,
                  options=[Option(k, _(v)) for k, v in DIMENSION_NAMES.items()]),
        FormField("follow_up", _("Follow-up questions (optional)"), "multiline", required=False,
                  hint=_("One question per line, at most {n}; each is asked as typed, in both languages, and rated "
                         "1–5 like the others.").format(n=FOLLOW_UPS), max_length=FOLLOW_UPS * (QUESTION_LENGTH + 1)),
    ])


def read_plan(session: Session, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Text]]:
    """The dialog's values as a plan, or an error at each field that is wrong."""
    errors: dict[str, Text] = {}
    kind = str(values.get("kind") or "")
    if kind not in kinds(session):
        errors["kind"] = T("Choose a kind of survey.")
    days: dict[str, dt.date] = {}
    for key in ("opens", "closes"):
        day, problem = parse_day(str(values.get(key) or ""))
        if problem is not None or day is None:
            errors[key] = problem or T("Choose a day.")
        else:
            days[key] = day
    if len(days) == 2 and days["closes"] < days["opens"]:
        errors["closes"] = T("The survey closes before it opens.")
    lines = [line.strip() for line in str(values.get("follow_up") or "").splitlines() if line.strip()]
    dimension = str(values.get("follow_dimension") or "")
    if len(lines) > FOLLOW_UPS:
        errors["follow_up"] = T("At most {n} follow-up questions.", n=FOLLOW_UPS)
    elif any(len(line) > QUESTION_LENGTH for line in lines):
        errors["follow_up"] = T("A question is at most {n} characters.", n=QUESTION_LENGTH)
    if lines and dimension not in DIMENSION_NAMES:
        errors["follow_dimension"] = T("Say which dimension the follow-up questions are about.")
    items = template_items(session) + [
        {"key": f"follow_up_{index}", "dimension": dimension, "text_zh": line, "text_en": line,
         "asks_importance": False} for index, line in enumerate(lines, start=1)]
    return {"kind": kind, **days, "items": items}, errors


def this_period(today: dt.date) -> str:
    """The month whose figures are being called for: the one a plan is made beside."""
    return current_period(today)
