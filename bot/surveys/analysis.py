"""A survey's results, whichever kind: a customer survey's by customer, the employee
survey's by department with its small groups withheld."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.surveys.campaigns import EMPLOYEE
from bot.surveys.employees import employee_results
from bot.surveys.results import customer_results
from storage.models import SurveyCampaign


def survey_results(session: Session, campaign: SurveyCampaign, customer_id: int | None = None) -> dict[str, Any]:
    if campaign.kind == EMPLOYEE:
        return employee_results(session, campaign)
    return customer_results(session, campaign, customer_id)
