"""Chat in a live meeting: a message checked against the meeting's rules (control.domain.moderation,
control.domain.chat), stored by the observers (control.services.chat), and sent to everyone admitted
or to one person, each recipient seeing names as "Show all usernames" lets them."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from control.domain import moderation
from control.domain.chat import text_problem
from control.domain.meeting_state import Refused, iso
from control.meetings import frames, visibility
from control.meetings.errors import MeetingError, refused
from control.meetings.live import LiveMeeting
from control.meetings.observers import Observers
from control.meetings.visibility import Viewer


async def send(
    live: LiveMeeting, pid: str, text: str, to: str | None, observers: Observers, clock: Callable[[], float]
) -> None:
    async with live.lock:
        checked = moderation.check_chat(live.state, pid, to)
        if isinstance(checked, Refused):
            raise refused(checked)
        problem = text_problem(text)
        if problem is not None:  # refused before anyone sees it, as it could not be stored
            error = MeetingError(problem, code="invalid_chat_text")
            error.status = 422
            raise error
        message = await observers.chat_message(live.info(), pid, live.names.get(pid, ""), to, text)
        if message is None:
            message = {
                "id": secrets.token_hex(8),
                "from": pid,
                "from_name": live.names.get(pid, ""),
                "to": to,
                "to_name": live.names.get(to) if to else None,
                "text": text,
                "at": iso(clock()),
            }
        frame = frames.ChatMessage(**message)
        targets = {p.id for p in live.state.admitted()} if to is None else {pid, to}
        for target in targets:
            viewer = live.viewer(target)
            live.send(
                target,
                frame.model_copy(
                    update={
                        "from_name": name_for(live, pid, frame.from_name, viewer),
                        "to_name": name_for(live, to, frame.to_name, viewer),
                    }
                ).wire(),
            )


def name_for(live: LiveMeeting, pid: str | None, stored: str | None, viewer: Viewer) -> str | None:
    """`pid`'s name as `viewer` may see it: the stored one, or a numbered label."""
    if pid is None:
        return None
    p = live.state.get(pid)
    if visibility.shown(viewer, p.person if p else None, "") is not None:
        return stored
    return visibility.label(live.numbers.get(pid, 0))
