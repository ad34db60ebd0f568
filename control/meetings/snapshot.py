"""A live meeting as the REST API shows it: its participants with names as "Show all usernames" lets
the caller see them, hidden people only to those who may see them."""

from __future__ import annotations

from typing import Any

from control.domain.meeting_state import USER_PREFIX
from control.meetings import frames, visibility
from control.meetings.live import LiveMeeting
from control.meetings.pipes import workers
from control.meetings.visibility import NOBODY, Viewer
from control.types import Principal


def snapshot(live: LiveMeeting, caller: Principal | Viewer | None = None) -> dict[str, Any]:
    """The meeting as the REST API shows it to `caller` (names by the rule "Show all usernames";
    without a caller, no names)."""
    state = live.state
    sees_hidden = isinstance(caller, Principal) and visibility.sees_hidden(state, caller)
    if isinstance(caller, Principal):
        caller = visibility.viewer(caller.permissions, USER_PREFIX + caller.user_id)
    viewer = caller or NOBODY
    return {
        "id": live.id,
        "room_id": live.room_id,
        "worker_id": live.media.worker_id,
        "workers": workers(live.media.records, live.media.worker_id),
        "presenter_mode": state.presenter_mode,
        "chat_enabled": state.chat_enabled,
        "recording": state.recording,
        "participants": [
            frames.participant(live, p, viewer).model_dump() for p in state.participants if not p.hidden or sees_hidden
        ],
    }
