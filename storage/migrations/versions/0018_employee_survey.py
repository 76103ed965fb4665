"""surveys: the anonymous employee survey's invitations, kept apart from its answers, and
the share of each department it asks

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_employee_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("survey_campaigns.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "person_id", name="uq_survey_employee_invitations_person"),
    )
    with op.batch_alter_table("survey_campaigns") as batch:
        batch.add_column(sa.Column("sample_rate", sa.Numeric(4, 3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_campaigns") as batch:
        batch.drop_column("sample_rate")
    op.drop_table("survey_employee_invitations")
