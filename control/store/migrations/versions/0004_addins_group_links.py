"""add-ins and group links

Revision ID: 0004_addins_group_links
Revises: 0003_chat_attendance
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_addins_group_links"
down_revision = "0003_chat_attendance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "add_ins",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "name"),
    )
    op.create_index("ix_add_ins_company_id", "add_ins", ["company_id"])
    op.create_table(
        "group_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("user_ids", sa.JSON(), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_index("ix_group_links_company_id", "group_links", ["company_id"])
    op.create_index("ix_group_links_room_id", "group_links", ["room_id"])


def downgrade() -> None:
    op.drop_index("ix_group_links_room_id", table_name="group_links")
    op.drop_index("ix_group_links_company_id", table_name="group_links")
    op.drop_table("group_links")
    op.drop_index("ix_add_ins_company_id", table_name="add_ins")
    op.drop_table("add_ins")
