"""The client frames of settings requests and remote control (docs/signaling.md, "Settings requests"
and "Remote control"): bounded shapes, validated before anything is relayed to anyone."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Ref = Annotated[str, Field(max_length=64)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Label = Annotated[str, Field(max_length=200)]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    ref: Ref | None = None


class Capture(BaseModel):
    """One source's capture settings, as the browser reports them (MediaTrackSettings and the
    sender's encoding)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    source: Literal["microphone", "camera", "screen"]
    device_id: Label | None = None
    label: Label | None = None
    width: Annotated[int, Field(ge=1, le=8192)] | None = None
    height: Annotated[int, Field(ge=1, le=8192)] | None = None
    frame_rate: Annotated[float, Field(ge=0, le=240)] | None = None
    bitrate: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    """Bits per second: the encoding's maxBitrate, or the measured rate."""
    sample_rate: Annotated[int, Field(ge=0, le=384_000)] | None = None
    on: bool | None = None


class Device(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["audioinput", "videoinput", "audiooutput"]
    device_id: Label
    label: Label = ""


class Report(BaseModel):
    """What a participant shares with consent: their devices and current capture settings."""

    model_config = ConfigDict(extra="forbid", strict=True)
    devices: Annotated[list[Device], Field(max_length=64)] = []
    capture: Annotated[list[Capture], Field(max_length=8)] = []
    user_agent: Label = ""


class Proposal(BaseModel):
    """A change of capture settings a moderator proposes, applied only with consent."""

    model_config = ConfigDict(extra="forbid", strict=True)
    source: Literal["camera", "screen"] = "camera"
    width: Annotated[int, Field(ge=16, le=8192)] | None = None
    height: Annotated[int, Field(ge=16, le=8192)] | None = None
    frame_rate: Annotated[float, Field(ge=1, le=120)] | None = None
    bitrate: Annotated[int, Field(ge=10_000, le=50_000_000)] | None = None


class SettingsRequestFrame(_Frame):
    """Moderator → server: ask `target` for their settings (and propose a change)."""

    type: Literal["settings-request"]
    target: Id
    propose: Proposal | None = None


class SettingsAnswerFrame(_Frame):
    """Participant → server: the answer to a request; `report` only with `allow`."""

    type: Literal["settings-answer"]
    request_id: Id
    allow: bool
    report: Report | None = None
    applied: bool = False
    """With a proposal: the participant's client applied it (the report shows the result)."""


class ControlRequestFrame(_Frame):
    """Moderator → server: ask to control `target`'s shared screen."""

    type: Literal["control-request"]
    target: Id


class ControlAnswerFrame(_Frame):
    """Participant → server: accept or decline a remote-control request."""

    type: Literal["control-answer"]
    session_id: Id
    allow: bool


Coordinate = Annotated[float, Field(ge=0.0, le=1.0)]
"""A fraction of the shared screen's width or height, from its top left corner."""


class InputEvent(BaseModel):
    """One pointer or key event of the controlling moderator."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["pointermove", "pointerdown", "pointerup", "wheel", "keydown", "keyup"]
    x: Coordinate | None = None
    y: Coordinate | None = None
    button: Annotated[int, Field(ge=0, le=4)] | None = None
    dx: Annotated[float, Field(ge=-10_000, le=10_000)] | None = None
    dy: Annotated[float, Field(ge=-10_000, le=10_000)] | None = None
    key: Annotated[str, Field(max_length=32)] | None = None
    """KeyboardEvent.key"""
    code: Annotated[str, Field(max_length=32)] | None = None
    """KeyboardEvent.code"""
    modifiers: Annotated[list[Literal["alt", "ctrl", "meta", "shift"]], Field(max_length=4)] = []


class ControlEventFrame(_Frame):
    """Controlling moderator → server: one input event."""

    type: Literal["control-event"]
    session_id: Id
    event: InputEvent


class ControlEndFrame(_Frame):
    """Either side → server: end the session (offered or active)."""

    type: Literal["control-end"]
    session_id: Id
