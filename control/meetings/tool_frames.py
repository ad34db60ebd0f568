"""The frames the server sends about the meeting's tools beside media (docs/signaling.md: "Whiteboard",
"Settings requests", "Remote control"), typed as control.meetings.frames types the others."""

from __future__ import annotations

from typing import Any, Literal

from control.meetings.frames import OutFrame


class WhiteboardOp(OutFrame):
    type: Literal["whiteboard-op"] = "whiteboard-op"
    op: dict[str, Any]
    """The operation as control.meetings.whiteboard_wire.encode writes it (with `seq`, `author`)."""


class WhiteboardOps(OutFrame):
    type: Literal["whiteboard-ops"] = "whiteboard-ops"
    ops: list[dict[str, Any]]
    last: int
    """The board's last sequence number (0: empty)."""
    more: bool
    """More pages of this replay follow."""


class SettingsRequested(OutFrame):
    type: Literal["settings-requested"] = "settings-requested"
    request_id: str
    moderator_id: str
    propose: dict[str, Any] | None


class SettingsReport(OutFrame):
    type: Literal["settings-report"] = "settings-report"
    request_id: str
    participant_id: str
    report: dict[str, Any]
    applied: bool


class SettingsDeclined(OutFrame):
    type: Literal["settings-declined"] = "settings-declined"
    request_id: str
    participant_id: str


class ControlRequested(OutFrame):
    type: Literal["control-requested"] = "control-requested"
    session_id: str
    moderator_id: str


class ControlDeclined(OutFrame):
    type: Literal["control-declined"] = "control-declined"
    session_id: str
    participant_id: str


class ControlStarted(OutFrame):
    type: Literal["control-started"] = "control-started"
    session_id: str
    controller_id: str
    target_id: str
    helper_token: str | None = None
    """The controlled participant's only: attaches a native helper to the event stream."""

    def wire(self) -> dict[str, Any]:
        frame = super().wire()
        if frame["helper_token"] is None:
            del frame["helper_token"]
        return frame


class ControlInput(OutFrame):
    type: Literal["control-input"] = "control-input"
    session_id: str
    seq: int
    event: dict[str, Any]


class ControlEnded(OutFrame):
    type: Literal["control-ended"] = "control-ended"
    session_id: str
    by: str | None
    reason: str
    events: int
