"""The signaling frames of the meeting's tools beside media: the whiteboard, settings requests and
remote control (docs/signaling.md). `control.signaling` parses them with its own frames and hands
them here; each is answered by `ok` (with what it created) or an error frame."""

from __future__ import annotations

from typing import Any

from control.meetings.consent_wire import (
    ControlAnswerFrame,
    ControlEndFrame,
    ControlEventFrame,
    ControlRequestFrame,
    SettingsAnswerFrame,
    SettingsRequestFrame,
)
from control.meetings.live import LiveMeeting
from control.meetings.service import MeetingService
from control.meetings.whiteboard_wire import WhiteboardFrame, WhiteboardSync

FRAMES = (
    WhiteboardFrame,
    WhiteboardSync,
    SettingsRequestFrame,
    SettingsAnswerFrame,
    ControlRequestFrame,
    ControlAnswerFrame,
    ControlEventFrame,
    ControlEndFrame,
)
TYPES = (
    "whiteboard",
    "whiteboard-sync",
    "settings-request",
    "settings-answer",
    "control-request",
    "control-answer",
    "control-event",
    "control-end",
)


async def dispatch(service: MeetingService, live: LiveMeeting, pid: str, frame: Any) -> dict[str, Any]:
    """Carry out one tool frame; the fields of its `ok` reply."""
    if isinstance(frame, WhiteboardFrame):
        op = await service.whiteboards.draw(live, pid, frame.op.request())
        return {"seq": op.seq}
    if isinstance(frame, WhiteboardSync):
        return {"last": await service.whiteboards.replay(live, pid, frame.after)}
    if isinstance(frame, SettingsRequestFrame):
        return {"request_id": await service.settings_requests.ask(live, pid, frame.target, frame.propose)}
    if isinstance(frame, SettingsAnswerFrame):
        await service.settings_requests.answer(live, pid, frame.request_id, frame.allow, frame.report, frame.applied)
        return {}
    if isinstance(frame, ControlRequestFrame):
        return {"session_id": await service.remote_control.request(live, pid, frame.target)}
    if isinstance(frame, ControlAnswerFrame):
        await service.remote_control.answer(live, pid, frame.session_id, frame.allow)
        return {}
    if isinstance(frame, ControlEventFrame):
        return {"seq": await service.remote_control.event(live, pid, frame.session_id, frame.event)}
    assert isinstance(frame, ControlEndFrame)
    await service.remote_control.end(live, pid, frame.session_id)
    return {}
