"""live meetings: their state and their participants' engine objects, for restarts

Revision ID: 0005_live_meetings
Revises: 0004_addins_group_links
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_live_meetings"
down_revision = "0004_addins_group_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_meetings",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    op.create_table(
        "live_peers",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["live_meetings.meeting_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "participant_id"),
    )


def downgrade() -> None:
    op.drop_table("live_peers")
    op.drop_table("live_meetings")
