"""The whole procedure as tables.

Every time is stored in UTC (timezone-aware columns); business time is computed in the
company time zone by bot/. Rows that carry a rule or a figure keep their history: a
submission is never updated in place, a new version is added.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

UTC = dt.UTC


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant, stored in UTC on every database and handed back timezone-aware.

    SQLite keeps no offset: without this, an 08:00+08:00 value would be stored as wall time
    08:00 and read back naive. A naive value is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if getattr(dialect, "name", "") == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


# --- People, roles, customers ---------------------------------------------------------------


class Role(Base):
    __tablename__ = "roles"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    roles: Mapped[list[PersonRole]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    identities: Mapped[list[PersonIdentity]] = relationship(
        back_populates="person", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_keys(self) -> list[str]:
        return sorted(r.role_key for r in self.roles)

    def identity(self, messenger: str) -> str | None:
        return next((i.user_id for i in self.identities if i.messenger == messenger), None)

    def set_identity(self, messenger: str, user_id: str | None) -> None:
        for identity in list(self.identities):
            if identity.messenger == messenger:
                if user_id:
                    identity.user_id = user_id
                else:
                    self.identities.remove(identity)
                return
        if user_id:
            self.identities.append(PersonIdentity(messenger=messenger, user_id=user_id))

    @hybrid_property
    def slack_user_id(self) -> str | None:  # type: ignore[override]
        """The person's Slack identity (the messenger most companies start with)."""
        return self.identity("slack")

    @slack_user_id.inplace.setter
    def _slack_user_id_setter(self, value: str | None) -> None:
        self.set_identity("slack", value)

    @slack_user_id.inplace.expression
    @classmethod
    def _slack_user_id_expression(cls) -> Any:
        return (select(PersonIdentity.user_id)
                .where(PersonIdentity.person_id == cls.id, PersonIdentity.messenger == "slack")
                .correlate_except(PersonIdentity).scalar_subquery().label("slack_user_id"))


class PersonIdentity(Base):
    """How a messenger knows a person: a Slack member id, a WeCom userid. One per messenger
    and person; an id belongs to one person."""

    __tablename__ = "person_identities"
    __table_args__ = (
        UniqueConstraint("messenger", "user_id", name="uq_person_identities_messenger_user_id"),
        UniqueConstraint("person_id", "messenger", name="uq_person_identities_person_id_messenger"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    messenger: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    person: Mapped[Person] = relationship(back_populates="identities")


class PersonRole(Base):
    __tablename__ = "person_roles"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    role_key: Mapped[str] = mapped_column(ForeignKey("roles.key"), primary_key=True)
    person: Mapped[Person] = relationship(back_populates="roles")


class RoleDelegation(Base):
    """A person hands a role to a deputy for a period (leave, vacancy)."""

    __tablename__ = "role_delegations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    role_key: Mapped[str] = mapped_column(ForeignKey("roles.key"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(500), default="", server_default="")  # 顾客地址 on the forms
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    owner: Mapped[Person | None] = relationship(lazy="joined")


class CustomerContact(Base):
    """A person at the customer the surveys ask (the buyer, the quality contact, a user of
    the product), in the language they read."""

    __tablename__ = "customer_contacts"
    __table_args__ = (UniqueConstraint("customer_id", "name", name="uq_customer_contacts_customer_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    role: Mapped[str] = mapped_column(String(100), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- Metric catalogue and figures -------------------------------------------------------------


class Metric(Base):
    __tablename__ = "metrics"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    min_value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    max_value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    owner_role: Mapped[str] = mapped_column(ForeignKey("roles.key"))
    scope: Mapped[str] = mapped_column(String(16))  # customer | company
    visibility: Mapped[str] = mapped_column(String(16), default="all")  # all | costs
    in_monthly_call: Mapped[bool] = mapped_column(Boolean, default=True)
    target: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class FigureSubmission(Base):
    """One version of one figure for one month (and one customer, or the whole company).

    `series_key` names the figure (metric|month|customer-or-dash) so that versions of the
    same figure are unique and the current one is found without NULL comparisons.
    """

    __tablename__ = "figure_submissions"
    __table_args__ = (
        UniqueConstraint("series_key", "version", name="uq_figure_submissions_series_version"),
        Index("ix_figure_submissions_period_metric", "period", "metric_key"),
        Index("ix_figure_submissions_customer_period", "customer_id", "period"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    series_key: Mapped[str] = mapped_column(String(120))
    metric_key: Mapped[str] = mapped_column(ForeignKey("metrics.key"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(32))  # dialog | import | complaint | demo | api
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class FigureDraft(Base):
    """What a person typed into the monthly dialog but has not submitted yet."""

    __tablename__ = "figure_drafts"
    __table_args__ = (UniqueConstraint("person_id", "period", name="uq_figure_drafts_person_period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    period: Mapped[str] = mapped_column(String(7))
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MetricTarget(Base):
    """A metric's target from a month on: a changed target leaves earlier months judged by
    the one in force then (the metric row keeps the latest, for the catalogue)."""

    __tablename__ = "metric_targets"
    __table_args__ = (UniqueConstraint("metric_key", "valid_from", name="uq_metric_targets_metric_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_key: Mapped[str] = mapped_column(ForeignKey("metrics.key"))
    valid_from: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    target: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class CustomerKpi(Base):
    """One KPI a customer requires, from a month on (SPEC §2, customer-required performance).

    A change is a new row valid from its month, so a month is always judged by the register
    in force then; `active` false retires the KPI from that month."""

    __tablename__ = "customer_kpis"
    __table_args__ = (UniqueConstraint("customer_id", "kpi", "valid_from", name="uq_customer_kpis_customer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kpi: Mapped[str] = mapped_column(String(48))  # its monthly figure is the metric `kpi.<kpi>`
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    target: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    direction: Mapped[str] = mapped_column(String(8))  # higher | lower: which side of the target meets it
    valid_from: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


# --- Scorecard --------------------------------------------------------------------------------


class ScorecardRuleSet(Base):
    """A version of the scorecard rules; a month is scored with the set in force then."""

    __tablename__ = "scorecard_rule_sets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    category_points: Mapped[dict[str, Any]] = mapped_column()
    monthly_target: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    annual_target: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    survey_weight: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    abnormal_streak_months: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    rules: Mapped[list[ScorecardRule]] = relationship(
        back_populates="rule_set", cascade="all, delete-orphan", lazy="selectin"
    )
    grades: Mapped[list[GradeBand]] = relationship(
        back_populates="rule_set", cascade="all, delete-orphan", lazy="selectin",
        order_by="GradeBand.min_score.desc()",
    )


class ScorecardRule(Base):
    __tablename__ = "scorecard_rules"
    __table_args__ = (UniqueConstraint("rule_set_id", "event_type", name="uq_scorecard_rules_set_type"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("scorecard_rule_sets.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    rule_set: Mapped[ScorecardRuleSet] = relationship(back_populates="rules")


class GradeBand(Base):
    __tablename__ = "grade_bands"
    __table_args__ = (UniqueConstraint("rule_set_id", "key", name="uq_grade_bands_set_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("scorecard_rule_sets.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(32))
    min_score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    rule_set: Mapped[ScorecardRuleSet] = relationship(back_populates="grades")


class ScorecardEvent(Base):
    """A deduction-causing event. Corrections add a row that supersedes the earlier one."""

    __tablename__ = "scorecard_events"
    __table_args__ = (Index("ix_scorecard_events_customer_date", "customer_id", "event_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    event_date: Mapped[dt.date] = mapped_column(Date)
    event_type: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(Text)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    source: Mapped[str] = mapped_column(String(32))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard_events.id"))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(Text)


# --- Surveys ----------------------------------------------------------------------------------


class SurveyCampaign(Base):
    __tablename__ = "survey_campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # monthly_phone | quarterly_questionnaire | half_year | special | annual_external | employee
    kind: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32), default="questionnaire")
    opens_on: Mapped[dt.date] = mapped_column(Date)
    closes_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | open | closed
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    planning_notes: Mapped[str | None] = mapped_column(Text)
    sample_seed: Mapped[int | None] = mapped_column(Integer)  # the draw of contacts, reproducible
    sample_size: Mapped[int | None] = mapped_column(Integer)  # contacts drawn per customer; None: all
    sample_rate: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))  # an employee survey's share of each department
    csi: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # set when it closes: its answers change no more
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="SurveyQuestion.position"
    )


class SurveyQuestion(Base):
    __tablename__ = "survey_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    dimension: Mapped[str] = mapped_column(String(64))  # product_quality, service, price, ...
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="scale")  # scale | choice | text
    importance: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    key: Mapped[str | None] = mapped_column(String(64))  # the template item it came from
    asks_importance: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    campaign: Mapped[SurveyCampaign] = relationship(back_populates="questions")


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_campaign_customer", "campaign_id", "customer_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    respondent: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(32), default="questionnaire")
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    thanked_at: Mapped[dt.datetime | None] = mapped_column()
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # the invitation it answers: unique, so a link or a questionnaire file is answered once
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("survey_invitations.id"), unique=True)
    comment: Mapped[str | None] = mapped_column(Text)  # the free comment of the whole questionnaire
    answers: Mapped[list[SurveyAnswer]] = relationship(back_populates="response", cascade="all, delete-orphan")


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_response_id", "response_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"))
    score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # the rating, 1–5
    text: Mapped[str | None] = mapped_column(Text)
    importance: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # how much it matters to them, 1–5
    competitor: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))  # the main competitor's rating, 1–5
    response: Mapped[SurveyResponse] = relationship(back_populates="answers")


class SurveyInvitation(Base):
    """One contact (or a customer without contacts) asked in one survey: the personal link and
    questionnaire file name it, and it is answered once."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", "contact_id", name="uq_survey_invitations_contact"),
        Index("ix_survey_invitations_campaign_id", "campaign_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("customer_contacts.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answered_by: Mapped[str | None] = mapped_column(String(16))  # web | excel | phone | import
    call_outcome: Mapped[str | None] = mapped_column(String(16))  # reached | not_reached | refused
    called_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    customer: Mapped[Customer] = relationship(lazy="joined")
    contact: Mapped[CustomerContact | None] = relationship(lazy="joined")


class EmployeeInvitation(Base):
    """Who an anonymous employee survey asks, and whether they answered: kept apart from the
    answers, which carry the department and nothing that names the person (003 §4.1)."""

    __tablename__ = "survey_employee_invitations"
    __table_args__ = (UniqueConstraint("campaign_id", "person_id", name="uq_survey_employee_invitations_person"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    department: Mapped[str] = mapped_column(String(200))
    answered: Mapped[bool] = mapped_column(Boolean, default=False)  # a flag only: no time, no link to the answer
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- Complaints -------------------------------------------------------------------------------


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_status_received", "status", "received_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(64))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    product_model: Mapped[str | None] = mapped_column(String(200))
    specification: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int | None] = mapped_column(Integer)
    batch: Mapped[str | None] = mapped_column(String(200))
    symptom: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # general | serious | urgent
    received_via: Mapped[str | None] = mapped_column(String(32))  # phone | email | visit | portal | other
    found_where: Mapped[str | None] = mapped_column(String(16))  # incoming | line | field | other
    received_at: Mapped[dt.datetime] = mapped_column()
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # new | acknowledged | investigating | eight_d | waiting_customer | closed | reopened
    status: Mapped[str] = mapped_column(String(24), default="new")
    responsibility: Mapped[str | None] = mapped_column(String(16))  # ours | customer | supplier
    # the customer's: the quality information reply for it to confirm; the supplier's: its reference
    responsibility_detail: Mapped[str | None] = mapped_column(Text)
    cause_category: Mapped[str | None] = mapped_column(String(64))
    first_response: Mapped[str | None] = mapped_column(Text)
    investigation: Mapped[str | None] = mapped_column(Text)
    reply_to_customer: Mapped[str | None] = mapped_column(Text)
    customer_opinion: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    source: Mapped[str] = mapped_column(String(32), default="slack")
    channel_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ComplaintStatusChange(Base):
    __tablename__ = "complaint_status_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    changed_at: Mapped[dt.datetime] = mapped_column()
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str | None] = mapped_column(Text)


class ComplaintDeadline(Base):
    __tablename__ = "complaint_deadlines"
    __table_args__ = (
        UniqueConstraint("complaint_id", "milestone", name="uq_complaint_deadlines_complaint_milestone"),
        Index("ix_complaint_deadlines_state_due", "state", "due_at"),
        Index("ix_complaint_deadlines_state_warn", "state", "warn_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    milestone: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[dt.datetime] = mapped_column()
    # when the early warning is due (a share of the time allowed, SLA policy); moved with pauses
    warn_at: Mapped[dt.datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | met | breached
    met_at: Mapped[dt.datetime | None] = mapped_column()
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    warned_at: Mapped[dt.datetime | None] = mapped_column()
    breached_at: Mapped[dt.datetime | None] = mapped_column()


class ComplaintPause(Base):
    """Time waiting on the customer, excluded from deadlines."""

    __tablename__ = "complaint_pauses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column()
    ended_at: Mapped[dt.datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(Text)


class EightDReport(Base):
    __tablename__ = "eight_d_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), unique=True)
    d1_team: Mapped[str | None] = mapped_column(Text)
    d2_problem: Mapped[str | None] = mapped_column(Text)
    d3_containment: Mapped[str | None] = mapped_column(Text)
    d4_root_cause: Mapped[str | None] = mapped_column(Text)
    d5_corrective_actions: Mapped[str | None] = mapped_column(Text)
    d6_implementation: Mapped[str | None] = mapped_column(Text)
    d7_prevention: Mapped[str | None] = mapped_column(Text)
    d8_closure: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ComplaintAttachment(Base):
    __tablename__ = "complaint_attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | eight_d_report | other
    file_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProductReturn(Base):
    """A return (004 §6): quality returns come with a complaint; others need approval."""

    __tablename__ = "product_returns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # quality | non_quality
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    product_model: Mapped[str | None] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    approved_at: Mapped[dt.datetime | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected


class SlaPolicy(Base):
    """How long a complaint milestone may take; customer_id set for a customer's own rule."""

    __tablename__ = "sla_policies"
    __table_args__ = (
        UniqueConstraint("customer_key", "milestone", "severity", name="uq_sla_policies_scope"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    customer_key: Mapped[str] = mapped_column(String(32), default="*")  # "*" or the customer id
    milestone: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="*")
    amount: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(16))  # hours | days | working_days


# --- Corrective actions -------------------------------------------------------------------------


class CorrectiveAction(Base):
    __tablename__ = "corrective_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A stable description of what opened it, so a rule never opens the same action twice.
    trigger_key: Mapped[str] = mapped_column(String(200), unique=True)
    # scorecard_streak | monthly_below_target | annual_below_target | survey_point | complaint | manual
    trigger_kind: Mapped[str] = mapped_column(String(32))
    trigger_detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    title: Mapped[str] = mapped_column(Text)
    owner_department: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | implemented | verified | closed
    verification: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column()
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    # the improvement area (000 §4) that routed it to its department
    area: Mapped[str | None] = mapped_column(String(32))
    # times a verification found it not effective and sent it back to analysis
    loops: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    management_review: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CorrectiveActionStep(Base):
    """One step in an action's life, as it happened: who, when, what they recorded."""

    __tablename__ = "corrective_action_steps"
    __table_args__ = (Index("ix_corrective_action_steps_action_id", "action_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    of_action: Mapped[int] = mapped_column("action_id", ForeignKey("corrective_actions.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(24))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column()
    text: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Revisit(Base):
    """An after-sales quality revisit owed to a customer (SPEC §8, 004 §5.1): why, for which
    product, by when, and once done what the customer said."""

    __tablename__ = "revisits"
    __table_args__ = (Index("ix_revisits_status_due", "status", "due_date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # a stable description of what made it due, so an import or an action never adds it twice
    trigger_key: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    product: Mapped[str] = mapped_column(String(200))
    # change_first_batch | new_product | concession | after_improvement
    reason: Mapped[str] = mapped_column(String(24))
    from_action: Mapped[int | None] = mapped_column("action_id", ForeignKey("corrective_actions.id"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="due")  # due | recorded
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # import | action | dialog
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    visited_on: Mapped[dt.date | None] = mapped_column(Date)
    met_whom: Mapped[str | None] = mapped_column(String(200))
    customer_said: Mapped[str | None] = mapped_column(Text)
    problems: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime | None] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


# --- Working calendar ---------------------------------------------------------------------------


class CalendarDay(Base):
    """A day that differs from Monday-Friday: an official holiday or make-up working day
    loaded by an admin (source "official"), or a company override (source "company").
    A company override wins over the official arrangement."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("day", "source", name="uq_calendar_days_day_source"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))  # official | company
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CalendarYear(Base):
    """A year whose official arrangement an admin has loaded."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source_file: Mapped[str | None] = mapped_column(String(300))


# --- Messaging ------------------------------------------------------------------------------------


class OutboxMessage(Base):
    """An outbound message; the unique key makes enqueueing idempotent across replicas."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),
                      Index("ix_outbox_target_sent", "target", "sent_at"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    # post | update | dm | ephemeral | home | image
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64))  # channel id, user id (dm/home/ephemeral)
    payload: Mapped[dict[str, Any]] = mapped_column()
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    # pending | sent | failed | superseded (a newer version, or past expires_at)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # after this the message no longer matters (a reminder past its due day): superseded, not sent late
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    # an earlier attempt may have landed (a 5xx or a dead claim): look in the conversation before resending
    in_doubt: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    doubt_since: Mapped[dt.datetime | None] = mapped_column()  # when the attempt in doubt began
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    result_channel: Mapped[str | None] = mapped_column(String(64))
    result_ts: Mapped[str | None] = mapped_column(String(128))  # a WeCom msgid is longer than a Slack ts


class ProcessedEvent(Base):
    """Inbound Events API ids already handled: Slack retries are answered once."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SettingValue(Base):
    """Company settings edited at run time (targets, channels) beyond the defaults file."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ScoreInputsVersion(Base):
    """How often the inputs of a customer's scores changed (customer_id 0: the inputs of
    everyone's, such as the rules or the calendar), counted in the transaction that changed
    them: a stored score computed from older inputs is recognised as such."""

    __tablename__ = "score_inputs_versions"
    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)


class StoredScore(Base):
    """A customer's monthly score as last computed (an idle month too, as not evaluated),
    with the versions of the inputs it was computed from and the moment the passing of time
    alone would change it (the month closing, a complaint deadline falling due)."""

    __tablename__ = "monthly_scores"
    __table_args__ = (Index("ix_monthly_scores_month", "month"),)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    evaluated: Mapped[bool] = mapped_column(Boolean)
    total: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(32))
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    kpi_missing: Mapped[str] = mapped_column(String(1000), default="")  # keys, comma-separated
    rules_version: Mapped[int] = mapped_column(Integer)
    customer_inputs: Mapped[int] = mapped_column(Integer)
    shared_inputs: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[dt.datetime | None] = mapped_column()
    computed_at: Mapped[dt.datetime] = mapped_column()


class Lease(Base):
    """A role only one process may play at a time (running the scheduled jobs), held by
    whoever renewed it last until it expires: workers and replicas elect one through the
    database they share."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column()


class QueuedWork(Base):
    """Work after a response handed from a worker to the answer processes, kept until it
    is done: a process killed in the middle (out of memory, SIGKILL) leaves its claim to
    run out, and another process does the work again (every answer is safe to repeat)."""

    __tablename__ = "queued_work"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column()
    queued_at: Mapped[dt.datetime] = mapped_column(index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Counter(Base):
    """A named sequence (complaint numbers per year): one row locked per increment, so two
    people logging at once never get the same number, on SQLite or PostgreSQL."""

    __tablename__ = "counters"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
