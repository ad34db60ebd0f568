"""What every service call gets: the database session, settings, the clock, and policy helpers."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from control.domain.permissions import LABELS, Permission
from control.errors import Forbidden
from control.settings import Settings
from control.store.models import AuditEvent
from control.store.repositories.audit import AuditLog
from control.types import Principal


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    session: AsyncSession
    settings: Settings
    token_key: str
    clock: Callable[[], datetime] = field(default=_utcnow)

    def now(self) -> datetime:
        return self.clock()


def require(principal: Principal, permission: Permission) -> None:
    if not principal.holds(permission):
        raise Forbidden(f"this requires the permission '{LABELS[permission]}'", code="permission_required")


async def record(
    ctx: Context,
    principal: Principal | None,
    action: str,
    target_type: str,
    target_id: str | None,
    *,
    company_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the current transaction (committed with the change it describes)."""
    company = company_id or (principal.company_id if principal else None)
    if company is None:
        raise ValueError("an audit event needs a company")
    await AuditLog(ctx.session, company).add(
        AuditEvent(
            at=ctx.now(),
            actor_user_id=principal.user_id if principal else None,
            actor_api_key_id=principal.api_key_id if principal else None,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
        )
    )
