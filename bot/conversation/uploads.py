"""Files sent to csatbot in a direct message go where they belong: a questionnaire it made
(filled in by a customer) to its survey, any other spreadsheet to the monthly figures."""

from __future__ import annotations

from bot.core.caller import Caller
from bot.core.context import AppContext
from bot.datacall.use_cases import import_uploaded_figures
from bot.surveys.questionnaire_book import looks_like_questionnaire
from bot.surveys.use_cases import import_uploaded_questionnaires


def take_uploads(ctx: AppContext, caller: Caller, uploads: list[tuple[str, bytes]], key: str) -> None:
    questionnaires = [upload for upload in uploads if looks_like_questionnaire(upload[1])]
    others = [upload for upload in uploads if upload not in questionnaires]
    if questionnaires:
        import_uploaded_questionnaires(ctx, caller, questionnaires, key)
    if others or not questionnaires:
        import_uploaded_figures(ctx, caller, others, key)
