"""A company's recordings: listed, described, downloaded and deleted by those who moderate their room.

Who may: the room's organizers and moderators and holders of Administrate rooms (as for a room's
bans), for recordings of rooms they see. A recording still running is not deleted (stop it first).
Deletion is audited; the bytes a company's recordings take count against its storage quota
(control.recording.library)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from control.domain.roles import Role
from control.domain.rooms import may_administrate_room
from control.errors import Conflict, Forbidden, NotFound
from control.recording.library import RecordingLibrary
from control.services import rooms
from control.services.context import Context, record
from control.types import Principal


async def _may_manage(ctx: Context, principal: Principal, room_id: str) -> bool:
    try:
        view = await rooms.get_room(ctx, principal, room_id)
    except NotFound:
        return False
    return view.role in (Role.ORGANIZER, Role.MODERATOR) or may_administrate_room(principal.permissions, None)


async def list_recordings(
    ctx: Context, principal: Principal, library: RecordingLibrary, room_id: str | None = None
) -> list[dict[str, Any]]:
    """The company's recordings the caller manages (of `room_id` only, when given), newest first."""
    out = []
    allowed: dict[str, bool] = {}
    for description in library.list(principal.company_id):
        room = str(description.get("room_id"))
        if room_id is not None and room != room_id:
            continue
        if room not in allowed:
            allowed[room] = await _may_manage(ctx, principal, room)
        if allowed[room]:
            out.append(description)
    return out


async def get_recording(
    ctx: Context, principal: Principal, library: RecordingLibrary, recording_id: str
) -> dict[str, Any]:
    """The recording's description; NotFound for another company's or one of a room the caller does
    not see, Forbidden when they see the room but do not moderate it."""
    try:
        description = library.get(principal.company_id, recording_id)
    except (KeyError, ValueError):
        raise NotFound(f"recording {recording_id} not found") from None
    try:
        view = await rooms.get_room(ctx, principal, str(description["room_id"]))
    except NotFound:
        raise NotFound(f"recording {recording_id} not found") from None
    if view.role not in (Role.ORGANIZER, Role.MODERATOR) and not may_administrate_room(principal.permissions, None):
        raise Forbidden(
            "only the room's organizers and moderators, and holders of 'Administrate rooms', see its recordings",
            code="no_access",
        )
    return description


async def recording_file(
    ctx: Context, principal: Principal, library: RecordingLibrary, recording_id: str, name: str
) -> Path:
    await get_recording(ctx, principal, library, recording_id)
    try:
        return library.file(principal.company_id, recording_id, name)
    except KeyError:
        raise NotFound(f"recording {recording_id} has no file {name}") from None


async def delete_recording(ctx: Context, principal: Principal, library: RecordingLibrary, recording_id: str) -> None:
    description = await get_recording(ctx, principal, library, recording_id)
    if description.get("state") == "recording":
        raise Conflict("the recording is running: stop it first", code="recording_running")
    library.delete(principal.company_id, recording_id)
    await record(
        ctx,
        principal,
        "recording.delete",
        "recording",
        recording_id,
        after={"room_id": description.get("room_id"), "meeting_id": description.get("meeting_id")},
    )
    await ctx.session.commit()
