"""Who a survey asks: each active customer's contacts, all of them or a reproducible random
sample (the seed is kept on the survey); a customer without contacts is asked as itself,
through its owner. Each invitation has a personal link, signed with a secret the database
keeps (so every replica signs alike), that works until the survey closes and is answered once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.people.contacts import contacts_of
from storage.db import insert_ignoring_conflicts
from storage.models import Customer, CustomerContact, SettingValue, SurveyCampaign, SurveyInvitation
from storage.score_inputs import not_an_input

SECRET_KEY = not_an_input("secret:survey_links")
LINK_PATH = "/survey/"


def _previous_contacts(session: Session, campaign: SurveyCampaign) -> set[int]:
    """The contacts the survey of the same kind before this one asked."""
    before = session.scalar(select(SurveyCampaign.id).where(
        SurveyCampaign.kind == campaign.kind, SurveyCampaign.opens_on < campaign.opens_on,
        SurveyCampaign.id != campaign.id).order_by(SurveyCampaign.opens_on.desc()).limit(1))
    if before is None:
        return set()
    return {int(c) for c in session.scalars(select(SurveyInvitation.contact_id).where(
        SurveyInvitation.campaign_id == before, SurveyInvitation.contact_id.is_not(None)))}


def draw(pool: list[CustomerContact], size: int | None, rng: random.Random,
         asked_last: set[int]) -> list[CustomerContact]:
    """`size` of the pool, at random, those not asked last time first."""
    if size is None or size >= len(pool):
        return list(pool)
    fresh = [c for c in pool if c.id not in asked_last]
    chosen = rng.sample(fresh, min(size, len(fresh)))
    if len(chosen) < size:
        stale = [c for c in pool if c.id in asked_last]
        chosen += rng.sample(stale, size - len(chosen))
    return sorted(chosen, key=lambda c: c.id)


def invite(session: Session, campaign: SurveyCampaign, now: dt.datetime) -> int:
    """The survey's invitations, drawn once: the same seed and the same contacts draw the
    same sample. Drawing again adds nobody already drawn (a customer imported since is added)."""
    rng = random.Random(campaign.sample_seed or 0)
    asked_last = _previous_contacts(session, campaign)
    pools = contacts_of(session)
    rows = []
    for customer_id in session.scalars(select(Customer.id).where(Customer.active.is_(True)).order_by(Customer.id)):
        pool = pools.get(customer_id, [])
        chosen: list[CustomerContact | None] = list(draw(pool, campaign.sample_size, rng, asked_last)) or [None]
        rows += [{"campaign_id": campaign.id, "customer_id": customer_id,
                  "contact_id": None if c is None else c.id, "created_at": now} for c in chosen]
    existing = {(i.customer_id, i.contact_id) for i in session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.campaign_id == campaign.id))}
    rows = [r for r in rows if (r["customer_id"], r["contact_id"]) not in existing]
    added = insert_ignoring_conflicts(session, SurveyInvitation, rows) if rows else 0
    session.flush()
    return added


def invitations_of(session: Session, campaign_id: int, owner_id: int | None = None) -> list[SurveyInvitation]:
    query = (select(SurveyInvitation).join(Customer, Customer.id == SurveyInvitation.customer_id)
             .where(SurveyInvitation.campaign_id == campaign_id).order_by(Customer.code, SurveyInvitation.id))
    if owner_id is not None:
        query = query.where(Customer.owner_id == owner_id)
    return list(session.scalars(query))


# --- personal links ---------------------------------------------------------------------------------


def _secret(session: Session) -> bytes:
    row = session.get(SettingValue, SECRET_KEY)
    if row is None:  # two replicas at once: the first one's secret stands
        insert_ignoring_conflicts(session, SettingValue, [{"key": SECRET_KEY,
                                                           "value": {"secret": secrets.token_hex(32)}}])
        row = session.get(SettingValue, SECRET_KEY)
    assert row is not None
    return bytes.fromhex(str(row.value["secret"]))


def _signature(secret: bytes, invitation_id: int, campaign_key: str) -> str:
    digest = hmac.new(secret, f"{invitation_id}:{campaign_key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def token_for(session: Session, invitation: SurveyInvitation, campaign: SurveyCampaign) -> str:
    return f"{invitation.id}-{_signature(_secret(session), invitation.id, campaign.key)}"


def link_for(session: Session, base_url: str, invitation: SurveyInvitation, campaign: SurveyCampaign) -> str:
    return base_url.rstrip("/") + LINK_PATH + token_for(session, invitation, campaign)


@dataclass
class Opened:
    invitation: SurveyInvitation
    campaign: SurveyCampaign


def invitation_by_token(session: Session, token: str) -> Opened | None:
    """The invitation a link names, if its signature is ours; None for anything else."""
    number, _, signature = token.partition("-")
    if not number.isascii() or not number.isdigit() or len(number) > 12 or not signature:
        return None
    invitation = session.get(SurveyInvitation, int(number))
    if invitation is None:
        return None
    campaign = session.get(SurveyCampaign, invitation.campaign_id)
    if campaign is None:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(_secret(session), invitation.id, campaign.key).encode()):
        return None
    return Opened(invitation, campaign)
