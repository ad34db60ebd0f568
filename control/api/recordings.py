"""Meeting recordings: /recordings, /recordings/{recording_id}, its files (streamed) and deletion.

Recordings are started and stopped in the meeting (`start_recording` / `stop_recording`, docs/signaling.md)."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints
from starlette.responses import StreamingResponse

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input
from control.recording.library import RecordingLibrary, chunks
from control.services import recordings

endpoints = EndpointGroup(tag="recordings")

RecordingId = Annotated[str, StringConstraints(pattern=r"^r[0-9a-f]{16}$")]
FileName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,160}\.webm$")]


class RecordingsQuery(Input):
    room_id: Id | None = Field(None, description="only this room's recordings")


class RecordingPath(Input):
    recording_id: RecordingId


class FilePath(Input):
    recording_id: RecordingId
    name: FileName


class RecordingOut(BaseModel):
    id: str
    room_id: str
    meeting_id: str
    started_at: str
    ended_at: str | None
    state: str = Field(description="recording, stopped, meeting_ended or interrupted (a control-plane restart)")
    started_by: dict[str, Any] = Field(description="participant_id and user_id of the moderator who started it")
    stopped_by: str | None = None
    counters: dict[str, int] = Field(
        default_factory=dict, description="the recorder's datagrams, and those dropped by reason"
    )
    bytes: int = Field(description="what its files take, counted against the company's storage quota")
    files: list[dict[str, Any]] = Field(
        description="name, kind, participant_id, source (`mixed` for the mixed audio), offset and duration in "
        "seconds, bytes; download each at /recordings/{recording_id}/files/{name}"
    )


class RecordingsOut(BaseModel):
    items: list[RecordingOut]


def _library(call: Call) -> RecordingLibrary:
    return call.request.app.state.meetings.recordings.library  # type: ignore[no-any-return]


def _out(description: dict[str, Any]) -> RecordingOut:
    fields = {k: description[k] for k in RecordingOut.model_fields if k in description}
    fields["bytes"] = int(description.get("bytes", 0))
    return RecordingOut(**fields)


@endpoints.get("/recordings", query=RecordingsQuery, response=RecordingsOut, errors=())
async def list_recordings(call: Call) -> RecordingsOut:
    """List recordings

    The company's recordings of rooms the caller moderates (the room's organizers and moderators, holders of
    Administrate rooms), newest first; `room_id` keeps one room's."""
    found = await recordings.list_recordings(call.ctx, call.principal, _library(call), call.query.room_id)
    return RecordingsOut(items=[_out(d) for d in found])


@endpoints.get("/recordings/{recording_id}", path_model=RecordingPath, response=RecordingOut, errors=(403, 404))
async def get_recording(call: Call) -> RecordingOut:
    """Get a recording

    Its state, who started and stopped it, and its files: one WebM per recorded track and `mixed.webm`."""
    return _out(await recordings.get_recording(call.ctx, call.principal, _library(call), call.path.recording_id))


@endpoints.get(
    "/recordings/{recording_id}/files/{name}",
    path_model=FilePath,
    errors=(403, 404),
    media_type="video/webm",
)
async def download_recording_file(call: Call) -> StreamingResponse:
    """Download a recording's file

    One of the files the recording lists, streamed (`video/webm`; an audio-only file is `audio/webm`)."""
    path = await recordings.recording_file(
        call.ctx, call.principal, _library(call), call.path.recording_id, call.path.name
    )
    description = await recordings.get_recording(call.ctx, call.principal, _library(call), call.path.recording_id)
    kind = next((f.get("kind") for f in description.get("files", []) if f["name"] == path.name), "video")
    return StreamingResponse(
        chunks(path),
        media_type="audio/webm" if kind == "audio" else "video/webm",
        headers={
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "Content-Length": str(path.stat().st_size),
        },
    )


@endpoints.delete("/recordings/{recording_id}", path_model=RecordingPath, status=204, errors=(403, 404, 409))
async def delete_recording(call: Call) -> None:
    """Delete a recording

    Its files and description (409 `recording_running` while it runs: stop it first). Audited as `recording.delete`;
    the bytes return to the company's storage quota."""
    await recordings.delete_recording(call.ctx, call.principal, _library(call), call.path.recording_id)
