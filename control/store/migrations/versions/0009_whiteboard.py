"""whiteboard operations of meetings

Revision ID: 0009_whiteboard
Revises: 0008_replicas
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_whiteboard"
down_revision = "0008_replicas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whiteboard_ops",
        sa.Column("meeting_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("company_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("meeting_id", "seq"),
    )
    op.create_index("ix_whiteboard_ops_company_id", "whiteboard_ops", ["company_id"])


def downgrade() -> None:
    op.drop_index("ix_whiteboard_ops_company_id", table_name="whiteboard_ops")
    op.drop_table("whiteboard_ops")
