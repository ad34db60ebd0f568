"""shared files, conference materials, storage quota, webhook deliveries

Revision ID: 0010_files_webhooks
Revises: 0009_whiteboard
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_files_webhooks"
down_revision = "0009_whiteboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("max_storage_bytes", sa.BigInteger(), nullable=False, server_default=str(1 << 30)))
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(
            sa.Column("participants_add_materials", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("add_ins") as batch:
        batch.add_column(sa.Column("signing_secret", sa.String(length=300), nullable=True))
    op.create_table(
        "shared_files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("meeting_id", sa.String(length=32), nullable=True),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("uploader_person", sa.String(length=64), nullable=False),
        sa.Column("uploader_participant", sa.String(length=64), nullable=True),
        sa.Column("uploader_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_person", sa.String(length=64), nullable=True),
        sa.Column("recipient_participant", sa.String(length=64), nullable=True),
        sa.Column("recipient_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_shared_files_company_id", "shared_files", ["company_id"])
    op.create_index("ix_shared_files_meeting_id", "shared_files", ["meeting_id", "created_at"])
    op.create_index("ix_shared_files_room_id", "shared_files", ["room_id", "purpose"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("add_in_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["add_in_id"], ["add_ins.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_deliveries_company_id", "webhook_deliveries", ["company_id"])
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_add_in", "webhook_deliveries", ["add_in_id", "created_at"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("shared_files")
    with op.batch_alter_table("add_ins") as batch:
        batch.drop_column("signing_secret")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("participants_add_materials")
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("max_storage_bytes")
