"""stored monthly scores and the versions of their inputs

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "score_inputs_versions",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_score_inputs_versions")),
    )
    op.create_table(
        "monthly_scores",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("evaluated", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=32), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("kpi_missing", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("customer_inputs", sa.Integer(), nullable=False),
        sa.Column("shared_inputs", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_monthly_scores_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", "month", name=op.f("pk_monthly_scores")),
    )
    op.create_index("ix_monthly_scores_month", "monthly_scores", ["month"])


def downgrade() -> None:
    op.drop_index("ix_monthly_scores_month", table_name="monthly_scores")
    op.drop_table("monthly_scores")
    op.drop_table("score_inputs_versions")
