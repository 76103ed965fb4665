"""Planning and closing a survey. A survey copies its questionnaire when it is made, so it
keeps the items it was sent with whatever the template becomes."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.i18n import N_, gettext_for
from bot.core.spreadsheets import RowErrors, cell_error, read_table
from bot.core.stored_settings import setting
from bot.core.texts import T, UserError
from bot.datacall.figures import record_figure
from storage.models import SettingValue, SurveyCampaign, SurveyInvitation, SurveyQuestion
from storage.score_inputs import not_an_input

KIND_NAMES = {"monthly_phone": N_("monthly phone survey"), "quarterly": N_("quarterly questionnaire"),
              "half_year": N_("half-year survey"), "special": N_("special survey"),
              "annual_external": N_("annual external survey"), "employee": N_("employee survey")}
DIMENSION_NAMES = {"product_quality": N_("product quality"), "service": N_("service"), "price": N_("price"),
                   "brand": N_("brand image"), "complaint_handling": N_("complaint handling"),
                   "delivery": N_("delivery"), "system": N_("system and process"),
                   # the employee survey's (003 §4.1)
                   "cooperation": N_("between departments"), "leadership": N_("employees on their leaders"),
                   "staff": N_("leaders on their employees"), "conditions": N_("working conditions"),
                   "pay": N_("pay")}
EMPLOYEE = "employee"
ITEM_COLUMNS = ["key", "dimension", "text_zh", "text_en"]
YES = {"yes", "y", "true", "1", "是"}


def kinds(session: Session) -> list[str]:
    return [str(k) for k in setting(session, "surveys").get("kinds", [])]


def template_items(session: Session, kind: str | None = None) -> list[dict[str, Any]]:
    """The company's questionnaire (the employee survey has its own): the defaults file's,
    or the one it stored."""
    key = "employee_items" if kind == EMPLOYEE else "items"
    return [dict(item) for item in setting(session, "surveys").get(key, [])]


SETTINGS_KEY = not_an_input("surveys")  # the questionnaire and the survey options change no score


def store_template(session: Session, items: list[dict[str, Any]], now: dt.datetime) -> int:
    """The company's questionnaire from now on; a survey already planned keeps its own copy."""
    row = session.get(SettingValue, SETTINGS_KEY)
    if row is None:
        session.add(SettingValue(key=SETTINGS_KEY, value={"items": items}, updated_at=now))
    else:
        row.value = {**row.value, "items": items}
        row.updated_at = now
    session.flush()
    return len(items)


def items_from_file(path: Path) -> list[dict[str, Any]]:
    """A questionnaire as a sheet `key,dimension,text_zh,text_en[,asks_importance]`; every
    problem by row, or nothing."""
    errors = RowErrors()
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in read_table(path, ITEM_COLUMNS, ["asks_importance"]):
        v = row.values
        key = v["key"].strip()
        if not key or len(key) > 64:
            errors.append(cell_error(row, "key", T("a key of 1 to 64 characters.")))
        elif key in seen:
            errors.append(cell_error(row, "key", T("the same key is in an earlier row.")))
        seen.add(key)
        if v["dimension"].strip() not in DIMENSION_NAMES:
            errors.append(cell_error(row, "dimension", T("not a dimension."), sorted(DIMENSION_NAMES)))
        for column in ("text_zh", "text_en"):
            if not v[column].strip():
                errors.append(cell_error(row, column, T("the question in both languages is needed.")))
        items.append({"key": key, "dimension": v["dimension"].strip(), "text_zh": v["text_zh"].strip(),
                      "text_en": v["text_en"].strip(),
                      "asks_importance": v.get("asks_importance", "").strip().lower() in YES})
    if errors:
        first = list(errors)[0]
        raise UserError(T("The questionnaire has {n} problem(s); the first, in row {row}: {message}",
                          n=len(errors) + errors.more, row=first.row, message=first.message))
    if not items:
        raise UserError(T("The questionnaire has no items."))
    return items


def new_survey(session: Session, kind: str, opens: dt.date, closes: dt.date, by: int | None,
               items: list[dict[str, Any]] | None = None, seed: int | None = None) -> SurveyCampaign:
    """A survey with its copy of the questionnaire and the seed of its draw (the draw itself
    is `plans.plan`'s)."""

    known = kinds(session)
    if kind not in known:
        raise UserError(T("{value!r} is not a kind of survey; the kinds: {kinds}.", value=kind,
                          kinds=", ".join(known)))
    if closes < opens:
        raise UserError(T("The survey closes before it opens."))
    key = f"{kind}-{opens.isoformat()}"
    if session.scalar(select(SurveyCampaign.id).where(SurveyCampaign.key == key)) is not None:
        raise UserError(T("A {kind} opening on {opens} exists already.", kind=kind, opens=opens.isoformat()))
    year = opens.year
    campaign = SurveyCampaign(key=key, kind=kind, opens_on=opens, closes_on=closes, status="open",
                              title_zh=f"{year} {gettext_for('zh-CN')(KIND_NAMES.get(kind, kind))}",
                              title_en=f"{year} {gettext_for('en')(KIND_NAMES.get(kind, kind))}", created_by_id=by,
                              method=method_of(session, kind), sample_size=sample_size(session, kind),
                              sample_seed=secrets.randbelow(2**31) if seed is None else seed)
    campaign.questions = [
        SurveyQuestion(position=index + 1, key=item["key"], dimension=item["dimension"], text_zh=item["text_zh"],
                       text_en=item["text_en"], kind="scale", asks_importance=bool(item.get("asks_importance")))
        for index, item in enumerate(items or template_items(session, kind))]
    if kind == EMPLOYEE:
        campaign.anonymous, campaign.method, campaign.sample_size = True, "dialog", None
        campaign.sample_rate = employee_rate(session)
    session.add(campaign)
    session.flush()
    return campaign


def sample_size(session: Session, kind: str) -> int | None:
    size = dict(setting(session, "surveys").get("sample_per_customer", {})).get(kind)
    return max(1, int(size)) if size is not None else None


def method_of(session: Session, kind: str) -> str:
    return str(dict(setting(session, "surveys").get("method", {})).get(kind, "questionnaire"))


MINIMUM_EMPLOYEE_RATE = Decimal("0.6")  # 003 §4.1: at least 60 % of each department


def employee_rate(session: Session) -> Decimal:
    rate = Decimal(str(dict(setting(session, "surveys").get("employee", {})).get("sample_rate", "0.6")))
    return min(Decimal(1), max(MINIMUM_EMPLOYEE_RATE, rate))


def find_survey(session: Session, survey_id: int) -> SurveyCampaign:
    campaign = session.get(SurveyCampaign, survey_id)
    if campaign is None:
        raise UserError(T("No survey {value} exists.", value=survey_id))
    return campaign


def survey_json(campaign: SurveyCampaign, invitations: list[SurveyInvitation] | None = None) -> dict[str, Any]:
    asked = invitations or []
    return {"id": campaign.id, "key": campaign.key, "kind": campaign.kind, "status": campaign.status,
            "opens": campaign.opens_on.isoformat(), "closes": campaign.closes_on.isoformat(),
            "method": campaign.method, "sample_seed": campaign.sample_seed, "sample_per_customer": campaign.sample_size,
            "invitations": len(asked), "answered": sum(1 for i in asked if i.answered_at is not None),
            "invited": [{"customer": i.customer.code, "contact": i.contact.name if i.contact else None,
                         "answered": i.answered_at is not None} for i in asked],
            "items": [{"key": q.key or f"q{q.position}", "dimension": q.dimension, "text_zh": q.text_zh,
                       "text_en": q.text_en, "asks_importance": q.asks_importance} for q in campaign.questions]}


def close_survey(session: Session, campaign: SurveyCampaign, csi: float | None, csi_by_customer: dict[int, float],
                 now: dt.datetime, by: int | None) -> int:
    """Closed: each customer's CSI becomes its survey score of the closing month (the
    annual score blends it in); a typed-in score of that month is replaced by a new version,
    the earlier one kept. The survey's CSI is kept for the trends of later surveys (a
    closed survey takes no more answers). Closing twice changes nothing."""
    if campaign.status == "closed":
        return 0
    campaign.status = "closed"
    campaign.csi = None if csi is None else Decimal(str(round(csi, 2)))
    month = f"{campaign.closes_on.year:04d}-{campaign.closes_on.month:02d}"
    recorded = 0
    for customer_id, csi in sorted(csi_by_customer.items()):
        result = record_figure(session, "survey_score", month, customer_id, Decimal(str(round(csi, 1))), now,
                               by=by, source="survey", reason=f"survey {campaign.key}")
        recorded += result.changed
    session.flush()
    return recorded
