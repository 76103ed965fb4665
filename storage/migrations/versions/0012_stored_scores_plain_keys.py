"""stored scores keep the missing KPIs as plain comma-separated keys

The overview reads tens of thousands of these rows; decoding JSON for each cost more than
the rest of the read. The rows are derived (a fresh computation refills them), so the
table is made again empty rather than converted.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _monthly_scores(kpi_missing: sa.types.TypeEngine) -> None:
    op.create_table(
        "monthly_scores",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("evaluated", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("grade", sa.String(length=32), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("kpi_missing", kpi_missing, nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("customer_inputs", sa.Integer(), nullable=False),
        sa.Column("shared_inputs", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_monthly_scores_customer_id_customers")),
        sa.PrimaryKeyConstraint("customer_id", "month", name=op.f("pk_monthly_scores")),
    )
    op.create_index("ix_monthly_scores_month", "monthly_scores", ["month"])


def _drop_monthly_scores() -> None:
    op.drop_index("ix_monthly_scores_month", table_name="monthly_scores")
    op.drop_table("monthly_scores")


def upgrade() -> None:
    _drop_monthly_scores()
    _monthly_scores(sa.String(length=1000))


def downgrade() -> None:
    _drop_monthly_scores()
    _monthly_scores(sa.JSON())
