"""The survey use cases the command line (and later the chat) calls."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.core.context import AppContext
from bot.core.replies import Reply, Request
from bot.core.spreadsheets import ImportResult
from bot.core.texts import T, UserError
from bot.surveys.answers import results_message
from bot.surveys.campaigns import close_survey, find_survey, items_from_file, new_survey, survey_json
from bot.surveys.invitations import invitations_of
from bot.surveys.responses import import_responses
from bot.surveys.results import survey_results
from bot.surveys.workbook import statistics_workbook
from storage.models import SurveyCampaign


def plan_survey(ctx: AppContext, kind: str, opens: dt.date, closes: dt.date, questionnaire: Path | None = None,
                by: int | None = None, seed: int | None = None) -> dict[str, Any]:
    items = items_from_file(questionnaire) if questionnaire is not None else None
    with ctx.session() as session:
        campaign = new_survey(session, kind, opens, closes, by, items, now=ctx.now(), seed=seed)
        return survey_json(campaign, invitations_of(session, campaign.id))


def show_survey(ctx: AppContext, survey_id: int) -> dict[str, Any]:
    with ctx.session() as session:
        campaign = find_survey(session, survey_id)
        return survey_json(campaign, invitations_of(session, campaign.id))


def take_responses(ctx: AppContext, survey_id: int, path: Path, by: int | None = None) -> ImportResult:
    """All or nothing: a file with any bad row writes none."""
    with ctx.session() as session:
        result = import_responses(session, find_survey(session, survey_id), path, ctx.now(), by)
        if not result.ok:
            session.rollback()
        return result


def statistics(ctx: AppContext, survey_id: int, locale: str | None = None) -> bytes:
    """The survey statistics table as an Excel workbook."""
    with ctx.session() as session:
        return statistics_workbook(session, find_survey(session, survey_id), locale or ctx.locale)


def results(ctx: AppContext, survey_id: int) -> dict[str, Any]:
    with ctx.session() as session:
        return survey_results(session, find_survey(session, survey_id))


def close(ctx: AppContext, survey_id: int, by: int | None = None) -> tuple[dict[str, Any], int]:
    """The survey closed and its customers' CSIs recorded as their survey scores."""
    with ctx.session() as session:
        campaign = find_survey(session, survey_id)
        outcome = survey_results(session, campaign)
        recorded = close_survey(session, campaign, {c["customer_id"]: c["csi"] for c in outcome["customers"]
                                                    if c["csi"] is not None}, ctx.now(), by)
        outcome["status"] = campaign.status
        return outcome, recorded


RESULT_WORDS = {"results", "result", "结果"}


def survey_command(ctx: AppContext, request: Request, words: list[str]) -> Reply:
    """`/csat survey [results] [ID]`: a survey's results, the latest one without a number."""
    words = [w for w in words if w.lower() not in RESULT_WORDS]
    caller = request.caller
    with ctx.session() as session:
        if words:
            if not re.fullmatch(r"[0-9]{1,9}", words[0]):  # '²' is a digit to isdigit(), not to int()
                raise UserError(T("Use /csat survey [results] [number]."))
            campaign = find_survey(session, int(words[0]))
        else:
            campaign = session.scalar(select(SurveyCampaign).order_by(SurveyCampaign.opens_on.desc(),
                                                                      SurveyCampaign.id.desc()).limit(1))
            if campaign is None:
                raise UserError(T("No survey has been planned yet: `csatbot survey new` plans one."))
        outcome = survey_results(session, campaign)
        opens, closes = campaign.opens_on.isoformat(), campaign.closes_on.isoformat()
    return Reply(message=results_message(outcome, opens, closes, caller.locale or ctx.locale))
