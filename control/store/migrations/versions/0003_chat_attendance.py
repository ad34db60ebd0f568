"""chat messages and attendance events

Revision ID: 0003_chat_attendance
Revises: 0002_meetings
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_chat_attendance"
down_revision = "0002_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender_person", sa.String(length=64), nullable=False),
        sa.Column("sender_participant", sa.String(length=64), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_person", sa.String(length=64), nullable=True),
        sa.Column("recipient_participant", sa.String(length=64), nullable=True),
        sa.Column("recipient_name", sa.String(length=200), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_chat_messages_company_id", "chat_messages", ["company_id"])
    op.create_index("ix_chat_messages_meeting_id", "chat_messages", ["meeting_id", "id"])
    op.create_table(
        "attendance_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("participant", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attendance_events_meeting_id", "attendance_events", ["meeting_id", "id"])
    op.create_index("ix_attendance_events_person", "attendance_events", ["company_id", "person"])


def downgrade() -> None:
    op.drop_index("ix_attendance_events_person", table_name="attendance_events")
    op.drop_index("ix_attendance_events_meeting_id", table_name="attendance_events")
    op.drop_table("attendance_events")
    op.drop_index("ix_chat_messages_meeting_id", table_name="chat_messages")
    op.drop_index("ix_chat_messages_company_id", table_name="chat_messages")
    op.drop_table("chat_messages")
