"""companies: suspension by the instance operator

Revision ID: 0007_company_suspension
Revises: 0006_participants_may_start
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_company_suspension"
down_revision = "0006_participants_may_start"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("companies") as batch:
        batch.drop_column("suspended_at")
