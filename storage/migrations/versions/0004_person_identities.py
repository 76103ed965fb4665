"""person identities: a person has one identity per messenger instead of one Slack column

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("messenger", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_identities_person_id_people"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identities")),
        sa.UniqueConstraint("messenger", "user_id", name="uq_person_identities_messenger_user_id"),
        sa.UniqueConstraint("person_id", "messenger", name="uq_person_identities_person_id_messenger"),
    )
    # every existing person keeps their Slack member id, as their Slack identity
    op.execute("INSERT INTO person_identities (person_id, messenger, user_id) "
               "SELECT id, 'slack', slack_user_id FROM people WHERE slack_user_id IS NOT NULL AND slack_user_id <> ''")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint("uq_people_slack_user_id", type_="unique")
        batch_op.drop_column("slack_user_id")


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_user_id", sa.String(length=32), nullable=True))
    op.execute("UPDATE people SET slack_user_id = (SELECT user_id FROM person_identities "
               "WHERE person_identities.person_id = people.id AND messenger = 'slack')")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_people_slack_user_id", ["slack_user_id"])
    op.drop_table("person_identities")
