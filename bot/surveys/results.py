"""A survey's results: per dimension the score, importance, the shares satisfied (4–5),
somewhat unsatisfied (3) and unsatisfied (1–2), and the competitor; the CSI; each customer's
CSI from its own answers. A rating r scores (r − 1) / 4 × 100; a dimension the mean of its
answers' scores; the CSI the mean of the dimensions weighted by their mean importance
(equal weights when nobody rated importance, and a dimension nobody weighted takes the mean
of the others' weights)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Customer, SurveyAnswer, SurveyCampaign, SurveyQuestion, SurveyResponse


def rating_score(rating: float) -> float:
    return (rating - 1) / 4 * 100


@dataclass
class Rated:
    customer_id: int
    dimension: str
    rating: float | None
    importance: float | None
    competitor: float | None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _csi(answers: list[Rated]) -> tuple[float | None, dict[str, dict[str, Any]]]:
    by_dimension: dict[str, list[Rated]] = defaultdict(list)
    for answer in answers:
        by_dimension[answer.dimension].append(answer)
    dimensions: dict[str, dict[str, Any]] = {}
    for key, rated in by_dimension.items():
        ratings = [a.rating for a in rated if a.rating is not None]
        competitors = [rating_score(a.competitor) for a in rated if a.competitor is not None]
        paired = [rating_score(a.rating) - rating_score(a.competitor) for a in rated
                  if a.rating is not None and a.competitor is not None]  # the same people rated both
        dimensions[key] = {
            "key": key, "answers": len(ratings),
            "score": _mean([rating_score(r) for r in ratings]),
            "importance": _mean([a.importance for a in rated if a.importance is not None]),
            "satisfied": sum(r >= 4 for r in ratings) / len(ratings) if ratings else None,
            "somewhat": sum(r == 3 for r in ratings) / len(ratings) if ratings else None,
            "unsatisfied": sum(r <= 2 for r in ratings) / len(ratings) if ratings else None,
            "competitor": _mean(competitors), "gap": _mean(paired),
        }
    scored = [d for d in dimensions.values() if d["score"] is not None]
    if not scored:
        return None, dimensions
    weights = [d["importance"] for d in scored if d["importance"] is not None]
    fallback = _mean(weights) or 1.0
    total = sum(d["importance"] if d["importance"] is not None else fallback for d in scored)
    csi = sum(d["score"] * (d["importance"] if d["importance"] is not None else fallback) for d in scored) / total
    return csi, dimensions


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def survey_results(session: Session, campaign: SurveyCampaign) -> dict[str, Any]:
    rows = session.execute(
        select(SurveyResponse.customer_id, SurveyQuestion.dimension, SurveyAnswer.score, SurveyAnswer.importance,
               SurveyAnswer.competitor)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .where(SurveyResponse.campaign_id == campaign.id, SurveyResponse.customer_id.is_not(None))).all()
    answers = [Rated(int(r[0]), str(r[1]), None if r[2] is None else float(r[2]),
                     None if r[3] is None else float(r[3]), None if r[4] is None else float(r[4])) for r in rows]
    csi, dimensions = _csi(answers)
    order = list(dict.fromkeys(q.dimension for q in campaign.questions))
    by_customer: dict[int, list[Rated]] = defaultdict(list)
    for answer in answers:
        by_customer[answer.customer_id].append(answer)
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    responses = dict(session.execute(select(SurveyResponse.customer_id, func.count()).where(
        SurveyResponse.campaign_id == campaign.id).group_by(SurveyResponse.customer_id)).all())
    active = set(session.scalars(select(Customer.id).where(Customer.active.is_(True))))
    customers = []
    for customer_id, given in sorted(by_customer.items(), key=lambda item: codes.get(item[0], "")):
        customer_csi, _dims = _csi(given)
        customers.append({"code": codes.get(customer_id), "csi": _rounded(customer_csi),
                          "responses": int(responses.get(customer_id, 0)), "customer_id": customer_id})
    return {
        "survey": campaign.id, "key": campaign.key, "kind": campaign.kind, "status": campaign.status,
        "response_rate": round(len(active & set(by_customer)) / len(active), 3) if active else None,
        "csi": _rounded(csi),
        "dimensions": [{"key": d["key"], "score": _rounded(d["score"]), "importance": _rounded(d["importance"], 2),
                        "satisfied": _rounded(d["satisfied"], 3), "somewhat": _rounded(d["somewhat"], 3),
                        "unsatisfied": _rounded(d["unsatisfied"], 3),
                        "competitor": _rounded(d["competitor"]),
                        "gap_to_competitor": _rounded(d["gap"])}
                       for d in sorted(dimensions.values(), key=lambda d: order.index(d["key"])
                                       if d["key"] in order else len(order))],
        "customers": customers,
    }
