"""surveys: indexes under the results, which add up a survey's answers by customer and
dimension (a survey's responses, a response's answers); a closed survey's CSI, kept for the
trends of the surveys after it; the outbox by recipient and time sent (a messenger's limit per
recipient counts them)

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_survey_responses_campaign_customer", "survey_responses", ["campaign_id", "customer_id"])
    op.create_index("ix_survey_answers_response_id", "survey_answers", ["response_id"])
    op.create_index("ix_outbox_target_sent", "outbox", ["target", "sent_at"])
    with op.batch_alter_table("survey_campaigns") as batch:
        batch.add_column(sa.Column("csi", sa.Numeric(6, 2), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_outbox_target_sent", table_name="outbox")
    with op.batch_alter_table("survey_campaigns") as batch:
        batch.drop_column("csi")
    op.drop_index("ix_survey_answers_response_id", table_name="survey_answers")
    op.drop_index("ix_survey_responses_campaign_customer", table_name="survey_responses")
