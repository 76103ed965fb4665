"""A survey planned: the campaign with its copy of the questionnaire, and at once the draw of
whom it asks (the customers' contacts, or for the employee survey a share of each department)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.surveys.campaigns import EMPLOYEE, new_survey
from bot.surveys.employees import invite_employees
from bot.surveys.invitations import invite
from storage.models import SurveyCampaign


def plan(session: Session, kind: str, opens: dt.date, closes: dt.date, by: int | None, now: dt.datetime,
         items: list[dict[str, Any]] | None = None, seed: int | None = None) -> SurveyCampaign:
    campaign = new_survey(session, kind, opens, closes, by, items, seed)
    if kind == EMPLOYEE:
        invite_employees(session, campaign, now)
    else:
        invite(session, campaign, now)
    session.flush()
    return campaign
