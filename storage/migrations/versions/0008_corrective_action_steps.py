"""corrective actions: their steps, the improvement area that routed them, loops, management review

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("corrective_actions") as batch:
        batch.add_column(sa.Column("area", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("loops", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("management_review", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "corrective_action_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["corrective_actions.id"],
                                name=op.f("fk_corrective_action_steps_action_id_corrective_actions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["by_id"], ["people.id"], name=op.f("fk_corrective_action_steps_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_action_steps")),
    )
    op.create_index("ix_corrective_action_steps_action_id", "corrective_action_steps", ["action_id"])
    # an annual score below target goes to management review (SPEC §2)
    op.execute("UPDATE corrective_actions SET management_review = true WHERE trigger_kind = 'annual_below_target'")


def downgrade() -> None:
    op.drop_index("ix_corrective_action_steps_action_id", table_name="corrective_action_steps")
    op.drop_table("corrective_action_steps")
    with op.batch_alter_table("corrective_actions") as batch:
        batch.drop_column("management_review")
        batch.drop_column("loops")
        batch.drop_column("area")
