"""outbox: room for what a messenger calls a sent message by. Slack's time stamps fit in 32
characters; a WeCom msgid does not (its documentation shows 63)

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("result_ts", existing_type=sa.String(32), type_=sa.String(128), existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("result_ts", existing_type=sa.String(128), type_=sa.String(32), existing_nullable=True)
