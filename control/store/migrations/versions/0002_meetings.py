"""meetings, guest invitations, guest sessions, room removals and bans

Revision ID: 0002_meetings
Revises: 0001
Create Date: 2026-11-22 21:28:16.971210
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_meetings"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "guest_invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("issuer_user_id", sa.String(length=32), nullable=False),
        sa.Column("invitee_name", sa.String(length=200), nullable=False),
        sa.Column("invitee_key", sa.String(length=64), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    with op.batch_alter_table("guest_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guest_invitations_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_invitations_room_id"), ["room_id"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("opened_by", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_meetings_room_ended", ["room_id", "ended_at"], unique=False)

    op.create_table(
        "room_removals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("room_removals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_removals_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_room_removals_room_person", ["room_id", "person"], unique=False)

    op.create_table(
        "guest_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("invitation_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invitation_id"], ["guest_invitations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("guest_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guest_sessions_invitation_id"), ["invitation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_sessions_person"), ["person"], unique=False)
        batch_op.create_index(batch_op.f("ix_guest_sessions_room_id"), ["room_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("guest_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_sessions_room_id"))
        batch_op.drop_index(batch_op.f("ix_guest_sessions_person"))
        batch_op.drop_index(batch_op.f("ix_guest_sessions_invitation_id"))

    op.drop_table("guest_sessions")
    with op.batch_alter_table("room_removals", schema=None) as batch_op:
        batch_op.drop_index("ix_room_removals_room_person")
        batch_op.drop_index(batch_op.f("ix_room_removals_company_id"))

    op.drop_table("room_removals")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_room_ended")
        batch_op.drop_index(batch_op.f("ix_meetings_company_id"))

    op.drop_table("meetings")
    with op.batch_alter_table("guest_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guest_invitations_room_id"))
        batch_op.drop_index(batch_op.f("ix_guest_invitations_company_id"))

    op.drop_table("guest_invitations")
