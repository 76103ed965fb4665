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


QUADRANTS = ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")
TREND_SURVEYS = 6  # the earlier surveys of the same kind a result is compared with


def _answers(session: Session, campaign_id: int, customer_id: int | None = None) -> list[Rated]:
    query = (select(SurveyResponse.customer_id, SurveyQuestion.dimension, SurveyAnswer.score, SurveyAnswer.importance,
                    SurveyAnswer.competitor)
             .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
             .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
             .where(SurveyResponse.campaign_id == campaign_id, SurveyResponse.customer_id.is_not(None)))
    if customer_id is not None:
        query = query.where(SurveyResponse.customer_id == customer_id)
    return [Rated(int(r[0]), str(r[1]), None if r[2] is None else float(r[2]),
                  None if r[3] is None else float(r[3]), None if r[4] is None else float(r[4]))
            for r in session.execute(query)]


def quadrants(dimensions: list[dict[str, Any]]) -> dict[str, str]:
    """Importance–performance analysis: each dimension against the means of all of them
    (importance across, performance up): high importance and low performance is where to
    concentrate, high and high to keep up, low and low low priority, low importance and high
    performance possible overkill. Only dimensions with both are placed."""
    placed = [d for d in dimensions if d["score"] is not None and d["importance"] is not None]
    if len(placed) < 2:
        return {}
    middle_importance = sum(d["importance"] for d in placed) / len(placed)
    middle_score = sum(d["score"] for d in placed) / len(placed)
    result = {}
    for d in placed:
        important, good = d["importance"] >= middle_importance, d["score"] >= middle_score
        result[d["key"]] = QUADRANTS[(0 if not good else 1) if important else (2 if not good else 3)]
    return result


def _trend(session: Session, campaign: SurveyCampaign, customer_id: int | None) -> list[dict[str, Any]]:
    """This survey's CSI beside the earlier ones of the same kind, oldest first."""
    earlier = list(session.scalars(select(SurveyCampaign).where(
        SurveyCampaign.kind == campaign.kind, SurveyCampaign.opens_on < campaign.opens_on)
        .order_by(SurveyCampaign.opens_on.desc()).limit(TREND_SURVEYS)))
    points = []
    for other in reversed(earlier):
        csi, _dims = _csi(_answers(session, other.id, customer_id))
        points.append({"survey": other.id, "opens": other.opens_on.isoformat(), "csi": _rounded(csi)})
    return points


def _comments(session: Session, campaign_id: int, customer_id: int | None) -> list[dict[str, Any]]:
    """What the customers wrote: an item's comment under its dimension, the questionnaire's
    under `general`."""
    found: list[dict[str, Any]] = []
    query = (select(SurveyQuestion.dimension, SurveyAnswer.text, Customer.code)
             .join(SurveyAnswer, SurveyAnswer.question_id == SurveyQuestion.id)
             .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
             .join(Customer, Customer.id == SurveyResponse.customer_id)
             .where(SurveyResponse.campaign_id == campaign_id, SurveyAnswer.text.is_not(None))
             .order_by(SurveyQuestion.position, Customer.code))
    general = (select(SurveyResponse.comment, Customer.code).join(Customer, Customer.id == SurveyResponse.customer_id)
               .where(SurveyResponse.campaign_id == campaign_id, SurveyResponse.comment.is_not(None))
               .order_by(Customer.code))
    if customer_id is not None:
        query = query.where(SurveyResponse.customer_id == customer_id)
        general = general.where(SurveyResponse.customer_id == customer_id)
    found += [{"dimension": d, "customer": code, "text": text} for d, text, code in session.execute(query) if text]
    found += [{"dimension": "general", "customer": code, "text": text} for text, code in session.execute(general)
              if text]
    return found


def customer_results(session: Session, campaign: SurveyCampaign, customer_id: int | None = None) -> dict[str, Any]:
    """The results of the whole survey, or of one customer's answers alone."""
    answers = _answers(session, campaign.id, customer_id)
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
    for answered, given in sorted(by_customer.items(), key=lambda item: codes.get(item[0], "")):
        customer_csi, _dims = _csi(given)
        customers.append({"code": codes.get(answered), "csi": _rounded(customer_csi),
                          "responses": int(responses.get(answered, 0)), "customer_id": answered})
    if customer_id is not None:
        active &= {customer_id}
    shown = [{"key": d["key"], "score": _rounded(d["score"]), "importance": _rounded(d["importance"], 2),
              "satisfied": _rounded(d["satisfied"], 3), "somewhat": _rounded(d["somewhat"], 3),
              "unsatisfied": _rounded(d["unsatisfied"], 3),
              "competitor": _rounded(d["competitor"]),
              "gap_to_competitor": _rounded(d["gap"])}
             for d in sorted(dimensions.values(), key=lambda d: order.index(d["key"])
                             if d["key"] in order else len(order))]
    placed = quadrants(shown)
    for d in shown:
        d["quadrant"] = placed.get(d["key"])
    return {
        "survey": campaign.id, "key": campaign.key, "kind": campaign.kind, "status": campaign.status,
        "customer": codes.get(customer_id) if customer_id is not None else None,
        "response_rate": round(len(active & set(by_customer)) / len(active), 3) if active else None,
        "csi": _rounded(csi),
        "dimensions": shown,
        "customers": customers,
        "trend": _trend(session, campaign, customer_id),
        "comments": _comments(session, campaign.id, customer_id),
    }
