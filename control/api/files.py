"""Files shared in a meeting's chat and a room's conference materials: /meetings/{id}/files,
/rooms/{id}/materials, /files/{id}.

These endpoints take the token a person joins with (a user's access token, or a guest token) as
`Authorization: Bearer`, since guests share and read files too; API keys do not act here. Uploads are
`multipart/form-data` with the file in the field `file`, streamed to storage (control.services.files).
"""

from datetime import datetime
from email.utils import quote as quote_header
from urllib.parse import quote

from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input
from control.errors import Unauthenticated
from control.services.files import FileService, content_url
from control.store.models import SharedFile

endpoints = EndpointGroup(tag="files")


class MeetingPath(Input):
    meeting_id: Id


class RoomPath(Input):
    room_id: Id


class FilePath(Input):
    file_id: Id


class ShareQuery(Input):
    participant: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the uploader's participant (one of yours)")
    to: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the one participant it is for; absent: everyone"
    )


class FileOut(BaseModel):
    id: str
    purpose: str = Field(description="chat or material")
    room_id: str
    meeting_id: str | None
    name: str = Field(description="sanitised")
    content_type: str = Field(description="detected from the content")
    size: int
    url: str = Field(description="where its bytes are read (GET, same token)")
    uploader: str = Field(description="person key: u:<user id>, or a guest's invitee key")
    uploader_name: str
    recipient: str | None = Field(description="person key of the one recipient; null: everyone")
    recipient_participant: str | None
    created_at: datetime


class FileList(BaseModel):
    items: list[FileOut]


def out(row: SharedFile) -> FileOut:
    return FileOut(
        id=row.id,
        purpose=row.purpose,
        room_id=row.room_id,
        meeting_id=row.meeting_id,
        name=row.name,
        content_type=row.content_type,
        size=row.size,
        url=content_url(row.id),
        uploader=row.uploader_person,
        uploader_name=row.uploader_name,
        recipient=row.recipient_person,
        recipient_participant=row.recipient_participant,
        created_at=row.created_at,
    )


def _token(call: Call) -> str:
    header = call.request.headers.get("authorization")
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <access token or guest token>'")
    return token.strip()


def _files(call: Call) -> FileService:
    service: FileService = call.request.app.state.files
    return service


@endpoints.post(
    "/meetings/{meeting_id}/files",
    path_model=MeetingPath,
    query=ShareQuery,
    response=FileOut,
    status=201,
    authenticated=False,
    errors=(400, 401, 403, 409, 413),
)
async def share_file(call: Call) -> FileOut:
    """Share a file in a meeting's chat

    A `multipart/form-data` body with the file in the field `file`, from the participant `participant` (one of the
    caller's, by their join token: a user's access token or a guest token) to everyone, or to the participant `to`.
    The sender must be admitted and pass the chat rule and hold the `files` capability (403 `permission_missing`,
    `chat_disabled`, `actor_waiting`; 404 `unknown_participant`), checked again on every chunk: a right revoked
    during the upload stops it. 413 `file_too_large` over the size limit, 409 `storage_quota_exceeded` over the
    company's storage quota, on the declared length before reading or as the bytes arrive; a refused upload keeps
    nothing. The type is detected from the content, the name sanitised. Everyone concerned gets a `file` frame
    (`docs/signaling.md`); add-ins get `file.uploaded`."""
    q: ShareQuery = call.query
    await call.ctx.session.rollback()
    row = await _files(call).share(
        call.ctx,
        _token(call),
        call.path.meeting_id,
        q.participant,
        q.to,
        call.request.headers.get("content-type"),
        call.request.headers.get("content-length"),
        call.request.stream(),
    )
    return out(row)


@endpoints.get(
    "/meetings/{meeting_id}/files",
    path_model=MeetingPath,
    response=FileList,
    authenticated=False,
    errors=(401, 403),
)
async def list_meeting_files(call: Call) -> FileList:
    """A meeting's shared files

    The files shared in the meeting's chat that the caller may read, oldest first: those to everyone and their own
    one-to-one files; for people who took part in the meeting and its moderators (403 `not_a_participant`).
    Bearer: a user's access token or a guest token."""
    rows = await _files(call).in_meeting(call.ctx, _token(call), call.path.meeting_id)
    return FileList(items=[out(r) for r in rows])


@endpoints.post(
    "/rooms/{room_id}/materials",
    path_model=RoomPath,
    response=FileOut,
    status=201,
    authenticated=False,
    errors=(400, 401, 403, 409, 413),
)
async def add_material(call: Call) -> FileOut:
    """Attach a conference material to a room

    A `multipart/form-data` body with the document in the field `file`. The room's moderators (moderator or
    organizer rights there, or Administrate rooms; an appointed moderator in its running meeting) attach
    materials, and so do participants where the room's `participants_add_materials` is on (403
    `materials_moderators_only`). Size limit and quota as for chat files. Kept with the room; those in its
    running meeting get a `material-added` frame."""
    await call.ctx.session.rollback()
    row = await _files(call).add_material(
        call.ctx,
        _token(call),
        call.path.room_id,
        call.request.headers.get("content-type"),
        call.request.headers.get("content-length"),
        call.request.stream(),
    )
    return out(row)


@endpoints.get(
    "/rooms/{room_id}/materials", path_model=RoomPath, response=FileList, authenticated=False, errors=(401, 403)
)
async def list_materials(call: Call) -> FileList:
    """A room's conference materials

    The documents attached to the room, oldest first: for those present in its running meeting and its
    moderators (403 `not_present`). Bearer: a user's access token or a guest token."""
    rows = await _files(call).materials(call.ctx, _token(call), call.path.room_id)
    return FileList(items=[out(r) for r in rows])


@endpoints.get(
    "/files/{file_id}/content",
    path_model=FilePath,
    authenticated=False,
    media_type="application/octet-stream",
    errors=(401, 403),
)
async def download_file(call: Call) -> StreamingResponse:
    """Download a file

    The file's bytes, streamed, as an attachment of its detected type, for those who may read it: a one-to-one
    chat file for its sender and recipient only; a chat file to everyone for those who took part in the meeting and
    its moderators; a material for those present in the room's meeting and its moderators (403 `not_allowed`; 404
    when the token has no access to the file's room)."""
    row, chunks = await _files(call).open(call.ctx, _token(call), call.path.file_id)
    ascii_name = row.name.encode("ascii", "replace").decode().replace("?", "_")
    headers = {
        "Content-Disposition": f'attachment; filename="{quote_header(ascii_name)}"; '
        f"filename*=UTF-8''{quote(row.name, safe='')}",
        "Content-Length": str(row.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return StreamingResponse(chunks, media_type=row.content_type, headers=headers)


@endpoints.delete("/files/{file_id}", path_model=FilePath, status=204, authenticated=False, errors=(401, 403))
async def delete_file(call: Call) -> None:
    """Delete a file

    Its uploader deletes a shared file or material, as do the moderators of its meeting or room (403
    `not_allowed`); it leaves the company's storage quota at once. Audited (`file.deleted`)."""
    await _files(call).delete(call.ctx, _token(call), call.path.file_id)
