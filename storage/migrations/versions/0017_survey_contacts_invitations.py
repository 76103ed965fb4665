"""surveys: the customers' contacts, the invitations a survey draws from them (reproducibly,
its seed kept), and a response's invitation, answered once

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("customer_id", "name", name="uq_customer_contacts_customer_name"),
    )
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("customer_contacts.id"), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=16), nullable=True),
        sa.Column("call_outcome", sa.String(length=16), nullable=True),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "customer_id", "contact_id", name="uq_survey_invitations_contact"),
    )
    op.create_index("ix_survey_invitations_campaign_id", "survey_invitations", ["campaign_id"])
    with op.batch_alter_table("survey_campaigns") as batch:
        batch.add_column(sa.Column("sample_seed", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sample_size", sa.Integer(), nullable=True))
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("invitation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_survey_responses_invitation_id_survey_invitations", "survey_invitations", ["invitation_id"], ["id"])
        batch.create_unique_constraint("uq_survey_responses_invitation_id", ["invitation_id"])


def downgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_constraint("uq_survey_responses_invitation_id", type_="unique")
        batch.drop_constraint("fk_survey_responses_invitation_id_survey_invitations", type_="foreignkey")
        batch.drop_column("comment")
        batch.drop_column("invitation_id")
    with op.batch_alter_table("survey_campaigns") as batch:
        batch.drop_column("sample_size")
        batch.drop_column("sample_seed")
    op.drop_index("ix_survey_invitations_campaign_id", table_name="survey_invitations")
    op.drop_table("survey_invitations")
    op.drop_table("customer_contacts")
