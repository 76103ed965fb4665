"""people: WeCom userids kept in lower case. WeCom does not tell their case apart, so `LiSi`
and `lisi` are one member; an id whose lower case another row of the same messenger already
holds is left as it is (the two rows name one member: an administrator merges them)

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
        UPDATE person_identities SET user_id = lower(user_id)
        WHERE messenger = 'wecom' AND user_id <> lower(user_id)
          AND NOT EXISTS (SELECT 1 FROM person_identities AS other
                          WHERE other.messenger = 'wecom' AND other.user_id = lower(person_identities.user_id))
    """)


def downgrade() -> None:
    pass  # the case an id was typed in is not kept; lower case is what WeCom matches anyway
