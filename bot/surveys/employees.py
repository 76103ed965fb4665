"""The anonymous employee survey (003 §4.1): once a year a random share (at least 60 %) of
each department is asked by DM and answers in a dialog. Anonymity is in the tables: an
answer carries its department and the day, nothing that names the person; who was invited
is kept apart, with an "answered" flag and no time. A group with fewer than `min_group`
answers shows no results."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.i18n import gettext_for, pick
from bot.core.stored_settings import setting
from bot.core.views import Form, FormField, Option
from bot.people.identities import address_of
from bot.surveys.campaigns import DIMENSION_NAMES, EMPLOYEE
from bot.surveys.questionnaire import COMMENT_LENGTH, RATINGS, Checked
from bot.surveys.results import TREND_SURVEYS, Tallies, _csi, _rounded, merged, quadrants, tallies
from storage.db import insert_ignoring_conflicts
from storage.models import (
    EmployeeInvitation,
    Person,
    SurveyAnswer,
    SurveyCampaign,
    SurveyResponse,
)

FORM_KIND = "survey.employee"
NO_DEPARTMENT = "—"


def min_group(session: Session) -> int:
    return max(1, int(dict(setting(session, "surveys").get("employee", {})).get("min_group", 5)))


def departments(session: Session) -> dict[str, list[Person]]:
    """Everyone csatbot can write to, by department, in a stable order."""
    found: dict[str, list[Person]] = defaultdict(list)
    for person in session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.id)):
        if address_of(person):
            found[person.department.strip() or NO_DEPARTMENT].append(person)
    return dict(sorted(found.items()))


def invite_employees(session: Session, campaign: SurveyCampaign, now: dt.datetime) -> int:
    """A share of each department, at random with the survey's seed, rounded up, so that a
    department of three has two asked (never fewer than the rate)."""
    rng = random.Random(campaign.sample_seed or 0)
    rate = float(campaign.sample_rate or Decimal("0.6"))
    rows = []
    for department, people in departments(session).items():
        chosen = rng.sample(people, min(len(people), math.ceil(rate * len(people) - 1e-9)))
        rows += [{"campaign_id": campaign.id, "person_id": p.id, "department": department, "answered": False,
                  "created_at": now} for p in sorted(chosen, key=lambda p: p.id)]
    return insert_ignoring_conflicts(session, EmployeeInvitation, rows) if rows else 0


def invitations(session: Session, campaign_id: int) -> list[tuple[EmployeeInvitation, Person]]:
    query = (select(EmployeeInvitation, Person).join(Person, Person.id == EmployeeInvitation.person_id)
             .where(EmployeeInvitation.campaign_id == campaign_id).order_by(EmployeeInvitation.id))
    return [(invitation, person) for invitation, person in session.execute(query)]


def invitation_of(session: Session, campaign_id: int, person_id: int | None) -> EmployeeInvitation | None:
    if person_id is None:
        return None
    return session.scalar(select(EmployeeInvitation).where(EmployeeInvitation.campaign_id == campaign_id,
                                                           EmployeeInvitation.person_id == person_id))


def employee_form(campaign: SurveyCampaign, locale: str, smallest: int) -> Form:
    _ = gettext_for(locale)
    fields = [FormField(f"rating:{q.key or f'q{q.position}'}", pick(locale, q.text_zh, q.text_en), "select",
                        hint=_(DIMENSION_NAMES.get(q.dimension, q.dimension)),
                        options=[Option(r, r if r not in ("1", "5") else f"{r} · " + (
                            _("strongly disagree") if r == "1" else _("strongly agree"))) for r in RATINGS])
              for q in campaign.questions]
    fields.append(FormField("comment", _("Anything else? (optional)"), "multiline", required=False,
                            max_length=COMMENT_LENGTH))
    return Form(kind=FORM_KIND, title=_("Employee survey"), submit=_("Send"), close=_("Cancel"), fields=fields,
                intro=_("Anonymous: your answers are kept with your department only, never with your name, and a "
                        "group of fewer than {n} answers is never shown. 1 = strongly disagree, 5 = strongly "
                        "agree.").format(n=smallest), state={"survey": campaign.id})


def record_anonymous(session: Session, campaign: SurveyCampaign, invitation: EmployeeInvitation, checked: Checked,
                     today: dt.date) -> bool:
    """The answer stored without the person; False if they had answered already (the flag
    is set in the same statement that checks it, so two sends at once store one)."""
    flagged = session.execute(update(EmployeeInvitation).where(
        EmployeeInvitation.id == invitation.id, EmployeeInvitation.answered.is_(False)).values(answered=True))
    if flagged.rowcount != 1:  # type: ignore[attr-defined]
        return False
    response = SurveyResponse(campaign_id=campaign.id, customer_id=None, respondent=None,
                              department=invitation.department, channel="dialog",
                              submitted_at=dt.datetime.combine(today, dt.time(0), dt.UTC), entered_by_id=None,
                              invitation_id=None, comment=checked.comment or None)
    response.answers = [SurveyAnswer(question_id=r.question.id, score=r.rating) for r in checked.ratings
                        if r.rating is not None]
    session.add(response)
    session.flush()
    return True


def _department_answers(session: Session, campaign_id: int) -> dict[str, Tallies]:
    """Each department's tallies, people without one together."""
    found: dict[str, Tallies] = {}
    for department, given in tallies(session, campaign_id, SurveyResponse.department).items():
        name = department or NO_DEPARTMENT
        found[name] = merged({"before": found[name], "these": given}) if name in found else given
    return found


def employee_results(session: Session, campaign: SurveyCampaign) -> dict[str, Any]:
    """`{survey, kind, response_rate, csi, dimensions, departments: [{name, headcount,
    invited, answered, csi}], trend, comments}`; the CSI, the dimensions and the comments of
    a group of fewer than `min_group` answers are withheld (None, [])."""
    smallest = min_group(session)
    answers = _department_answers(session, campaign.id)
    responses = dict(session.execute(select(SurveyResponse.department, func.count()).where(
        SurveyResponse.campaign_id == campaign.id).group_by(SurveyResponse.department)).all())
    everyone = sum(responses.values())
    invited: dict[str, list[bool]] = defaultdict(list)
    for department, answered in session.execute(select(EmployeeInvitation.department, EmployeeInvitation.answered)
                                                .where(EmployeeInvitation.campaign_id == campaign.id)):
        invited[department].append(bool(answered))
    heads = {name: len(people) for name, people in departments(session).items()}
    rows = []
    for name in sorted(set(heads) | set(invited)):
        count = int(responses.get(name, 0))
        csi, _dims = _csi(answers.get(name, {})) if count >= smallest else (None, {})
        rows.append({"name": name, "headcount": heads.get(name, 0), "invited": len(invited.get(name, [])),
                     "answered": sum(invited.get(name, [])), "csi": _rounded(csi)})
    shown: list[dict[str, Any]] = []
    csi = None
    if everyone >= smallest:
        csi, dimensions = _csi(merged(answers))
        order = list(dict.fromkeys(q.dimension for q in campaign.questions))
        shown = [{"key": d["key"], "score": _rounded(d["score"]), "importance": None,
                  "satisfied": _rounded(d["satisfied"], 3), "somewhat": _rounded(d["somewhat"], 3),
                  "unsatisfied": _rounded(d["unsatisfied"], 3), "competitor": None, "gap_to_competitor": None,
                  "quadrant": None}
                 for d in sorted(dimensions.values(), key=lambda d: order.index(d["key"]) if d["key"] in order
                                 else len(order))]
        placed = quadrants(shown)
        for d in shown:
            d["quadrant"] = placed.get(d["key"])
    comments = [] if everyone < smallest else [
        {"dimension": "general", "customer": "", "text": text} for text in sorted(session.scalars(
            select(SurveyResponse.comment).where(SurveyResponse.campaign_id == campaign.id,
                                                 SurveyResponse.comment.is_not(None)))) if text]
    total_invited = sum(len(v) for v in invited.values())
    return {"survey": campaign.id, "key": campaign.key, "kind": campaign.kind, "status": campaign.status,
            "customer": None, "response_rate": round(everyone / total_invited, 3) if total_invited else None,
            "csi": _rounded(csi), "dimensions": shown, "departments": rows, "min_group": smallest,
            "trend": _employee_trend(session, campaign, smallest), "comments": comments}


def _employee_trend(session: Session, campaign: SurveyCampaign, smallest: int) -> list[dict[str, Any]]:
    earlier = list(session.scalars(select(SurveyCampaign).where(
        SurveyCampaign.kind == EMPLOYEE, SurveyCampaign.opens_on < campaign.opens_on)
        .order_by(SurveyCampaign.opens_on.desc()).limit(TREND_SURVEYS)))
    points = []
    for other in reversed(earlier):
        given = merged(tallies(session, other.id))
        count = session.scalar(select(func.count()).where(SurveyResponse.campaign_id == other.id)) or 0
        csi = _csi(given)[0] if count >= smallest else None
        points.append({"survey": other.id, "opens": other.opens_on.isoformat(), "csi": _rounded(csi)})
    return points
