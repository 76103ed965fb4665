"""surveys: an item's key and whether it asks importance; an answer's importance and the
rating of the customer's main competitor

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("survey_questions") as batch:
        batch.add_column(sa.Column("key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("asks_importance", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("survey_answers") as batch:
        batch.add_column(sa.Column("importance", sa.Numeric(6, 2), nullable=True))
        batch.add_column(sa.Column("competitor", sa.Numeric(6, 2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_answers") as batch:
        batch.drop_column("competitor")
        batch.drop_column("importance")
    with op.batch_alter_table("survey_questions") as batch:
        batch.drop_column("asks_importance")
        batch.drop_column("key")
