"""complaint deadlines: when the early warning is due

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint_deadlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_complaint_deadlines_state_warn", ["state", "warn_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaint_deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_deadlines_state_warn")
        batch_op.drop_column("warn_at")
