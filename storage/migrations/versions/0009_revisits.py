"""after-sales quality revisits

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revisits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trigger_key", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("met_whom", sa.String(length=200), nullable=True),
        sa.Column("customer_said", sa.Text(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["action_id"], ["corrective_actions.id"],
                                name=op.f("fk_revisits_action_id_corrective_actions")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_revisits_customer_id_customers")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["people.id"], name=op.f("fk_revisits_recorded_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisits")),
        sa.UniqueConstraint("trigger_key", name="uq_revisits_trigger_key"),
    )
    op.create_index("ix_revisits_status_due", "revisits", ["status", "due_date"])


def downgrade() -> None:
    op.drop_index("ix_revisits_status_due", table_name="revisits")
    op.drop_table("revisits")
