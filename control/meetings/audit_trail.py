"""Audit entries for what happens between people in a meeting outside the commit pipeline (settings
requests, remote control, clearing the whiteboard): one row each, actor the participant's user (none
for a guest, whose participant and person keys the entry's `after` names)."""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from control.meetings.live import LiveMeeting
from control.services.context import Context
from control.store.models import AuditEvent
from control.store.repositories.audit import AuditLog


async def record(
    context: Callable[[], AbstractAsyncContextManager[Context]],
    live: LiveMeeting,
    actor: str,
    action: str,
    details: dict[str, Any],
) -> None:
    """Write and commit one entry: `action` (e.g. `remote_control.started`) on the meeting, by the
    participant `actor`; `details` (participant ids, outcomes, counts) go to its `after`."""
    person = live.state.get(actor)
    after = {"participant": actor, "person": person.person if person else None, **details}
    async with context() as ctx:
        await AuditLog(ctx.session, live.company_id).add(
            AuditEvent(
                at=ctx.now(),
                actor_user_id=live.users.get(actor),
                action=action,
                target_type="meeting",
                target_id=live.id,
                after=after,
            )
        )
        await ctx.session.commit()
