"""replicas: meeting leases, and notifications of principal changes (PostgreSQL)

Revision ID: 0008_replicas
Revises: 0007_company_suspension

On PostgreSQL, every statement that writes a table a principal is read from notifies the channel
`podium_principals` (delivered when its transaction commits), so that every control-plane replica
drops its cached principals (control.replicas.invalidation). An API key's last-use time changes no
principal and notifies nothing.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_replicas"
down_revision = "0007_company_suspension"
branch_labels = None
depends_on = None

CHANNEL = "podium_principals"
FUNCTION = "podium_principals_changed"
TRIGGERS = {
    "auth_sessions": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "users": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "user_permissions": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "companies": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "api_keys": "INSERT OR UPDATE OF company_id, user_id, name, secret_hash, revoked_at OR DELETE OR TRUNCATE",
}
"""control.security.principals.AUTH_TABLES, and which writes of each notify."""


def upgrade() -> None:
    op.create_table(
        "meeting_leases",
        sa.Column("room_id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("owner_url", sa.String(length=2000), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_id"),
    )
    op.create_index(op.f("ix_meeting_leases_expires_at"), "meeting_leases", ["expires_at"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table, events in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {FUNCTION} AFTER {events} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {FUNCTION} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    op.drop_index(op.f("ix_meeting_leases_expires_at"), table_name="meeting_leases")
    op.drop_table("meeting_leases")
