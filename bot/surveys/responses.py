"""Answers collected elsewhere (paper, an online form tool's export, the Excel round trip):
`customer,respondent,item,rating,importance,competitor,comment`, one row per respondent and
item; all or nothing, each problem by row, column and value. The same respondent imported
again replaces their answers rather than counting twice."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.core.inputs import FULL_WIDTH_DIGITS, column_length
from bot.core.spreadsheets import ImportResult, Row, RowErrors, cell_error, read_table, too_long
from bot.core.texts import T, UserError
from bot.people.customers import customer_lookup
from storage.models import SurveyAnswer, SurveyCampaign, SurveyResponse

COLUMNS = ["customer", "respondent", "item", "rating"]
OPTIONAL = ["importance", "competitor", "comment"]
HEADER_HELP = "customer,respondent,item,rating,importance,competitor,comment"


def _rating(row: Row, column: str, required: bool, errors: RowErrors) -> Decimal | None:
    raw = row.values.get(column, "").strip().translate(FULL_WIDTH_DIGITS)
    if not raw:
        if required:
            errors.append(cell_error(row, column, T("a rating from 1 to 5 is needed.")))
        return None
    if raw not in ("1", "2", "3", "4", "5"):
        errors.append(cell_error(row, column, T("a whole number from 1 to 5."), ["1", "2", "3", "4", "5"]))
        return None
    return Decimal(raw)


def import_responses(session: Session, campaign: SurveyCampaign, path: Path, now: dt.datetime,
                     by: int | None) -> ImportResult:
    if campaign.status == "closed":
        raise UserError(T("Survey {id} is closed: its results are final.", id=campaign.id))
    questions = {q.key or f"q{q.position}": q for q in campaign.questions}
    customers = customer_lookup(session)
    codes = sorted({c.code for c in customers.values()})
    errors = RowErrors()
    answers: dict[tuple[int, str], list[SurveyAnswer]] = defaultdict(list)
    seen: dict[tuple[int, str, int], int] = {}
    for row in read_table(path, COLUMNS, OPTIONAL):
        v = row.values
        errors.extend(too_long(row, {"respondent": column_length(SurveyResponse.respondent)}))
        customer = customers.get(v["customer"].strip().lower())
        if customer is None:
            errors.append(cell_error(row, "customer", T("no customer has this code or name."), codes))
        respondent = v["respondent"].strip() or "—"
        question = questions.get(v["item"].strip())
        if question is None:
            errors.append(cell_error(row, "item", T("not an item of this survey."), sorted(questions)))
        rating = _rating(row, "rating", required=not v.get("comment", "").strip(), errors=errors)
        importance = _rating(row, "importance", required=False, errors=errors)
        competitor = _rating(row, "competitor", required=False, errors=errors)
        if customer is None or question is None:
            continue
        key = (customer.id, respondent, question.id)
        if key in seen:
            errors.append(cell_error(row, "item", T("this respondent already answered it in row {row}.",
                                                    row=seen[key])))
            continue
        seen[key] = row.number
        answers[(customer.id, respondent)].append(SurveyAnswer(
            question_id=question.id, score=rating, importance=importance, competitor=competitor,
            text=v.get("comment", "").strip() or None))
    if errors:
        return ImportResult(errors=errors)
    created = updated = 0
    for (customer_id, respondent), given in answers.items():
        response = session.scalar(select(SurveyResponse).where(
            SurveyResponse.campaign_id == campaign.id, SurveyResponse.customer_id == customer_id,
            SurveyResponse.respondent == respondent))
        if response is None:
            response = SurveyResponse(campaign_id=campaign.id, customer_id=customer_id, respondent=respondent,
                                      channel="import", submitted_at=now, entered_by_id=by)
            session.add(response)
            created += 1
        else:
            session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
            session.expire(response, ["answers"])
            updated += 1
        session.flush()
        for answer in given:
            answer.response_id = response.id
            session.add(answer)
    session.flush()
    return ImportResult(created=created, updated=updated)
