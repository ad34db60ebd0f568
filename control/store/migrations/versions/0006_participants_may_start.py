"""rooms: participants may start the meeting

Revision ID: 0006_participants_may_start
Revises: 0005_live_meetings
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_participants_may_start"
down_revision = "0005_live_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing rooms keep the safe behaviour: without a moderator, participants wait for one
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("participants_may_start", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("participants_may_start")
