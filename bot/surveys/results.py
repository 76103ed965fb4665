"""A survey's results: per dimension the score, importance, the shares satisfied (4–5),
somewhat unsatisfied (3) and unsatisfied (1–2), and the competitor; the CSI; each customer's
CSI from its own answers. A rating r scores (r − 1) / 4 × 100; a dimension the mean of its
answers' scores; the CSI the mean of the dimensions weighted by their mean importance
(equal weights when nobody rated importance, and a dimension nobody weighted takes the mean
of the others' weights)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from sqlalchemy import Float, and_, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from storage.models import Customer, SurveyAnswer, SurveyCampaign, SurveyQuestion, SurveyResponse


def rating_score(rating: float) -> float:
    return (rating - 1) / 4 * 100


class Tally(NamedTuple):
    """The sums a group's answers on one dimension add up to: all that the results need, so
    the database adds them up and only a row per group and dimension leaves it."""

    ratings: int = 0
    rating_sum: float = 0.0
    satisfied: int = 0  # rated 4–5
    somewhat: int = 0  # rated 3
    unsatisfied: int = 0  # rated 1–2
    weights: int = 0
    weight_sum: float = 0.0
    competitors: int = 0
    competitor_sum: float = 0.0
    paired: int = 0  # rated and the competitor rated by the same answer
    paired_gap_sum: float = 0.0


Tallies = dict[str, Tally]  # by dimension


def _float(sum_: Any) -> Any:
    """A sum read as a float: Numeric's Decimal per row costs more than the sum itself."""
    return type_coerce(sum_, Float)


def tallies(session: Session, campaign_id: int, group: Any = None, customer_id: int | None = None,
            ) -> dict[Any, Tallies]:
    """The survey's answers summed by `group` (a column of the response, or nothing: one
    group, None) and dimension."""
    score, importance, competitor = SurveyAnswer.score, SurveyAnswer.importance, SurveyAnswer.competitor
    both = and_(score.is_not(None), competitor.is_not(None))
    grouping = [group] if group is not None else []
    query = (select(group if group is not None else literal(None), SurveyQuestion.dimension,
                    func.count(score), _float(func.sum(score)),
                    func.sum(case((score >= 4, 1), else_=0)), func.sum(case((score == 3, 1), else_=0)),
                    func.sum(case((score <= 2, 1), else_=0)),
                    func.count(importance), _float(func.sum(importance)), func.count(competitor),
                    _float(func.sum(competitor)), func.count(case((both, 1))),
                    _float(func.sum(case((both, score - competitor)))))
             .select_from(SurveyResponse)
             .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
             .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
             .where(SurveyResponse.campaign_id == campaign_id)
             .group_by(*grouping, SurveyQuestion.dimension))
    if customer_id is not None:
        query = query.where(SurveyResponse.customer_id == customer_id)
    found: dict[Any, Tallies] = defaultdict(dict)
    for key, dimension, *sums in session.execute(query):
        found[key][str(dimension)] = Tally(*(v or 0 for v in sums))  # a sum over no rows is NULL
    return found


def by_customer(session: Session, campaign_id: int, customer_id: int | None = None) -> dict[int, Tallies]:
    """Each customer's tallies; answers that name no customer count for none."""
    found = tallies(session, campaign_id, SurveyResponse.customer_id, customer_id)
    found.pop(None, None)
    return found


def merged(groups: dict[Any, Tallies]) -> Tallies:
    """All the groups' tallies as one group's."""
    by_dimension: dict[str, list[Tally]] = defaultdict(list)
    for given in groups.values():
        for dimension, tally in given.items():
            by_dimension[dimension].append(tally)
    return {dimension: Tally(*map(sum, zip(*given, strict=True))) for dimension, given in by_dimension.items()}


def _mean(total: float, count: int) -> float | None:
    return total / count if count else None


def _csi(given: Tallies) -> tuple[float | None, dict[str, dict[str, Any]]]:
    dimensions: dict[str, dict[str, Any]] = {}
    for key, t in given.items():
        rated = t.ratings or None
        dimensions[key] = {
            "key": key, "answers": t.ratings,
            # the mean of (r − 1) / 4 × 100 over the ratings, with one division
            "score": 25 * (t.rating_sum - t.ratings) / t.ratings if rated else None,
            "importance": _mean(t.weight_sum, t.weights),
            "satisfied": t.satisfied / t.ratings if rated else None,
            "somewhat": t.somewhat / t.ratings if rated else None,
            "unsatisfied": t.unsatisfied / t.ratings if rated else None,
            "competitor": 25 * (t.competitor_sum - t.competitors) / t.competitors if t.competitors else None,
            "gap": 25 * t.paired_gap_sum / t.paired if t.paired else None,  # the same people rated both
        }
    scored = [d for d in dimensions.values() if d["score"] is not None]
    if not scored:
        return None, dimensions
    weights = [d["importance"] for d in scored if d["importance"] is not None]
    fallback = sum(weights) / len(weights) if weights else 1.0
    total = sum(d["importance"] if d["importance"] is not None else fallback for d in scored)
    csi = sum(d["score"] * (d["importance"] if d["importance"] is not None else fallback) for d in scored) / total
    return csi, dimensions


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


QUADRANTS = ("concentrate_here", "keep_up_the_good_work", "low_priority", "possible_overkill")
TREND_SURVEYS = 6  # the earlier surveys of the same kind a result is compared with


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
        if customer_id is None and other.status == "closed" and other.csi is not None:
            csi: float | None = float(other.csi)  # kept when it closed
        else:
            csi, _dims = _csi(merged(by_customer(session, other.id, customer_id)))
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
    customers_tallies = by_customer(session, campaign.id, customer_id)
    csi, dimensions = _csi(merged(customers_tallies))
    order = list(dict.fromkeys(q.dimension for q in campaign.questions))
    codes = dict(session.execute(select(Customer.id, Customer.code)).all())
    responses = dict(session.execute(select(SurveyResponse.customer_id, func.count()).where(
        SurveyResponse.campaign_id == campaign.id).group_by(SurveyResponse.customer_id)).all())
    active = set(session.scalars(select(Customer.id).where(Customer.active.is_(True))))
    customers = []
    for answered, given in sorted(customers_tallies.items(), key=lambda item: codes.get(item[0], "")):
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
        "response_rate": round(len(active & set(customers_tallies)) / len(active), 3) if active else None,
        "csi": _rounded(csi),
        "dimensions": shown,
        "customers": customers,
        "trend": _trend(session, campaign, customer_id),
        "comments": _comments(session, campaign.id, customer_id),
    }
