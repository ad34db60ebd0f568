"""What a change made through one replica asks of the meetings every replica runs, sent through
PostgreSQL notifications (channel `podium_meetings`): end a company's meetings (the instance
operator suspended or deleted it), end a deleted room's meeting, disconnect the guest of a revoked
invitation.

The replica that handled the call acts on its own meetings at once, then notifies (after its
transaction committed); every replica, itself included, acts on receipt. Both actions are
idempotent: a meeting already ended, or a guest already gone, is left as it is. A notice is a small
JSON object, `{"kind": ..., "id": ...}`; anything else is logged and ignored
(control.replicas.notice_actions acts on them).
"""

from __future__ import annotations

import json
from enum import StrEnum

CHANNEL = "podium_meetings"


class Notice(StrEnum):
    END_COMPANY = "end_company"
    """`id`: a company suspended or deleted: its running meetings end."""
    REVOKED_INVITATION = "revoked_invitation"
    """`id`: a guest invitation revoked: its guest leaves the running meeting."""
    END_ROOM = "end_room"
    """`id`: a room deleted: its running meeting ends."""


def payload(kind: Notice, subject: str) -> str:
    return json.dumps({"kind": str(kind), "id": subject}, separators=(",", ":"))


def parse(text: str) -> tuple[Notice, str] | None:
    """The notice a payload names; None for anything else."""
    try:
        data = json.loads(text)
        kind, subject = Notice(data["kind"]), data["id"]
    except (ValueError, KeyError, TypeError):
        return None
    return (kind, subject) if isinstance(subject, str) and 0 < len(subject) <= 64 else None
