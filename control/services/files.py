"""Shared files and conference materials: receiving, listing, reading and deleting them.

Callers present the token they join with (a user's access token or a guest token), checked against
the file's room as a join is (`MeetingService.identify`). A file shared in chat needs the uploader's
participant in the running meeting to pass `check_files` (the chat rule and the `files` capability),
checked before the first byte, on every chunk and once more before the file is kept: a right revoked
during an upload stops it. Size and quota (`control.domain.files.size_refusal`) are checked on the
declared length, on every chunk and, under the company's lock, against the bytes stored when the file
is kept. A refused upload leaves nothing behind: the staging file is removed before the error is sent.

Keeping a file writes its row, its audit entry (`file.uploaded`) and its webhook deliveries
(`file.uploaded`) in one transaction; the participants concerned then get a `file` (or
`material-added`) frame. Who may read is `control.domain.files.may_read`.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from control.domain import moderation
from control.domain.files import (
    Budget,
    Purpose,
    Reader,
    detect_type,
    may_add_material,
    may_delete,
    may_read,
    sanitize_name,
    size_refusal,
)
from control.domain.files import SharedFile as FileFacts
from control.domain.meeting_state import Refused, iso
from control.domain.webhooks import EventType
from control.errors import ApiError, Conflict, Forbidden, NotFound, TooLarge
from control.files.settings import FileSettings
from control.files.storage import Storage, new_key
from control.files.upload import Received, receive
from control.meetings.chat import name_for
from control.meetings.errors import MeetingError, refused
from control.meetings.file_frames import FileInfo, FileShared, MaterialAdded, MaterialRemoved
from control.meetings.live import Identity, LiveMeeting
from control.meetings.service import MeetingService
from control.services.attendance import AttendanceRecorder, user_person_keys
from control.services.context import Context
from control.store.models import AuditEvent, Company, Room, SharedFile
from control.store.repositories.audit import AuditLog
from control.store.repositories.meetings import MeetingStore
from control.store.repositories.shared_files import SharedFiles
from control.webhooks.queue import enqueue

__all__ = ["CONTENT_PATH", "FileService", "content_url"]

log = logging.getLogger("podium.files")

CONTENT_PATH = "/api/v1/files/{file_id}/content"

MULTIPART_OVERHEAD = 16 * 1024
"""Bytes of a multipart body besides the file (boundaries, part headers): the declared length minus
this is a lower bound of the file's size."""


def content_url(file_id: str) -> str:
    return CONTENT_PATH.format(file_id=file_id)


def info(row: SharedFile) -> FileInfo:
    return FileInfo(id=row.id, name=row.name, content_type=row.content_type, size=row.size, url=content_url(row.id))


def facts(row: SharedFile) -> FileFacts:
    return FileFacts(Purpose(row.purpose), row.uploader_person, row.recipient_person)


def snapshot(row: SharedFile) -> dict[str, Any]:
    """The audit picture of a file: what it is and whose, never its bytes."""
    return {
        "purpose": row.purpose,
        "name": row.name,
        "content_type": row.content_type,
        "size": row.size,
        "room_id": row.room_id,
        "meeting_id": row.meeting_id,
        "uploader": row.uploader_person,
        "recipient": row.recipient_person,
    }


@dataclass(frozen=True)
class Caller:
    identity: Identity
    persons: frozenset[str]

    @property
    def moderates_room(self) -> bool:
        """Moderator or organizer rights in the room (Administrate rooms gives them for every room)."""
        role = self.identity.room_role
        return role is not None and role.moderates

    def present(self, live: LiveMeeting | None) -> list[str]:
        """The caller's admitted participants in the running meeting."""
        if live is None:
            return []
        return [p.id for p in live.state.admitted() if p.person in self.persons]

    def moderating(self, live: LiveMeeting | None) -> bool:
        """Whether one of the caller's participants moderates the running meeting (an appointed guest too)."""
        return live is not None and any(p.role.moderates for p in live.state.admitted() if p.person in self.persons)


class FileService:
    def __init__(
        self, storage: Storage, settings: FileSettings, meetings: MeetingService, wake: Callable[[], None]
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.meetings = meetings
        self.wake = wake
        self._quota_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # ---- who asks ------------------------------------------------------------------------------

    async def _caller(self, token: str, room_id: str) -> Caller:
        """The person behind the token, if they may enter the room; 404 otherwise (a file of a room one
        has no access to does not exist for them)."""
        try:
            identity, _ = await self.meetings.identify(token, room_id)
        except MeetingError:
            raise NotFound("no such file or room for this token") from None
        persons = user_person_keys(identity.user_id) if identity.user_id else (identity.person,)
        return Caller(identity, frozenset(persons))

    async def _reader(
        self, ctx: Context, caller: Caller, company_id: str, room_id: str, meeting_id: str | None
    ) -> Reader:
        """The caller in relation to a room's materials (`meeting_id` None) or to a meeting's chat files."""
        live = self.meetings.meeting_of_room(room_id)
        if meeting_id is None:
            present = bool(caller.present(live))
            return Reader(caller.persons, present, caller.moderates_room or caller.moderating(live))
        same = live if live is not None and live.id == meeting_id else None
        attendance = AttendanceRecorder(ctx.session, company_id)
        took_part = bool(caller.present(same)) or await attendance.took_part(meeting_id, *caller.persons)
        oversees = (
            caller.moderates_room or caller.moderating(same) or await attendance.moderated(meeting_id, *caller.persons)
        )
        return Reader(caller.persons, took_part, oversees)

    async def _reader_of(self, ctx: Context, caller: Caller, row: SharedFile) -> Reader:
        chat = row.purpose == Purpose.CHAT.value
        return await self._reader(ctx, caller, row.company_id, row.room_id, row.meeting_id if chat else None)

    # ---- receiving -----------------------------------------------------------------------------

    async def _budget(self, ctx: Context, company_id: str) -> Budget:
        company = await ctx.session.get(Company, company_id)
        assert company is not None
        budget = Budget(
            self.settings.max_file_bytes,
            company.max_storage_bytes,
            await SharedFiles(ctx.session, company_id).used_bytes(),
        )
        await ctx.session.rollback()  # no transaction stays open while the body streams in
        return budget

    async def _receive(
        self,
        budget: Budget,
        content_type: str | None,
        declared: str | None,
        stream: AsyncIterator[bytes],
        allowed: Callable[[], None],
    ) -> Received:
        # the declared length, less the multipart framing, bounds the file's size before a byte is read
        declared_size = max(int(declared) - MULTIPART_OVERHEAD, 0) if declared and declared.isdigit() else 0

        def check(size: int) -> None:
            allowed()
            problem = size_refusal(max(size, declared_size), budget)
            if problem is not None:
                raise _size_error(*problem)

        return await receive(content_type, stream, self.storage.staging(), check)

    async def _keep(
        self,
        ctx: Context,
        company_id: str,
        budget: Budget,
        received: Received,
        row: SharedFile,
        allowed: Callable[[], None],
        actor_user_id: str | None,
    ) -> SharedFile:
        """Store the received file and its row, audit entry and webhook deliveries, or nothing."""
        row.name = sanitize_name(received.filename)
        row.content_type = detect_type(received.head)
        row.size = received.size
        row.storage_key = new_key()
        repo = SharedFiles(ctx.session, company_id)
        kept = False
        try:
            async with self._quota_locks[company_id]:
                problem = size_refusal(received.size, replace(budget, used=await repo.used_bytes()))
                if problem is not None:
                    raise _size_error(*problem)
                allowed()  # a right revoked while the body streamed in refuses the file
                await self.storage.put(row.storage_key, received.staged, row.content_type)
                kept = True
                row.created_at = ctx.now()
                await repo.add(row)
                await _audit(ctx, company_id, actor_user_id, "file.uploaded", row, after=snapshot(row))
                data = {"file_id": row.id, **snapshot(row)}
                queued = await enqueue(ctx.session, company_id, EventType.FILE_UPLOADED, data, ctx.now())
                await ctx.session.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                await ctx.session.rollback()
            if kept:
                await self.storage.delete(row.storage_key)
            else:
                with contextlib.suppress(OSError):
                    received.staged.unlink(missing_ok=True)
            raise
        if queued:
            self.wake()
        return row

    # ---- files in chat -------------------------------------------------------------------------

    async def share(
        self,
        ctx: Context,
        token: str,
        meeting_id: str,
        participant_id: str,
        to: str | None,
        content_type: str | None,
        declared: str | None,
        stream: AsyncIterator[bytes],
    ) -> SharedFile:
        """Share a file in the running meeting's chat, from `participant_id` (one of the caller's) to
        everyone or to the participant `to`."""
        live = self.meetings.meeting(meeting_id)
        if live is None:
            raise NotFound(f"meeting {meeting_id} is not running")
        caller = await self._caller(token, live.room_id)
        me = live.state.get(participant_id)
        if me is None or me.person not in caller.persons:
            raise Forbidden(f"{participant_id} is not one of your participants", code="not_your_participant")

        def allowed() -> None:
            checked = moderation.check_files(live.state, participant_id, to)
            if isinstance(checked, Refused):
                raise refused(checked)

        allowed()
        budget = await self._budget(ctx, live.company_id)
        received = await self._receive(budget, content_type, declared, stream, allowed)
        recipient = live.state.get(to) if to is not None else None
        row = SharedFile(
            room_id=live.room_id,
            meeting_id=live.id,
            purpose=Purpose.CHAT.value,
            uploader_person=me.person,
            uploader_participant=participant_id,
            uploader_name=live.names.get(participant_id, "")[:200],
            recipient_person=recipient.person if recipient else None,
            recipient_participant=to,
            recipient_name=live.names.get(to, "")[:200] if to else None,
        )
        row = await self._keep(ctx, live.company_id, budget, received, row, allowed, caller.identity.user_id)
        frame = FileShared(
            file=info(row),
            **{"from": participant_id},
            from_name=row.uploader_name,
            to=to,
            to_name=row.recipient_name,
            at=iso(row.created_at.timestamp()),
        )
        targets = {p.id for p in live.state.admitted()} if to is None else {participant_id, to}
        for target in targets:
            viewer = live.viewer(target)
            named = frame.model_copy(
                update={
                    "from_name": name_for(live, participant_id, frame.from_name, viewer),
                    "to_name": name_for(live, to, frame.to_name, viewer),
                }
            )
            live.send(target, named.wire())
        return row

    async def in_meeting(self, ctx: Context, token: str, meeting_id: str) -> list[SharedFile]:
        """The meeting's chat files the caller may read (to everyone, and their own one-to-one ones);
        for those who took part in it or oversee it."""
        meeting = await MeetingStore(ctx.session).meeting(meeting_id)
        if meeting is None:
            raise NotFound(f"meeting {meeting_id} not found")
        caller = await self._caller(token, meeting.room_id)
        reader = await self._reader(ctx, caller, meeting.company_id, meeting.room_id, meeting.id)
        if not (reader.took_part or reader.oversees):
            raise Forbidden(
                "only people who took part in the meeting and its moderators see its files", code="not_a_participant"
            )
        return await SharedFiles(ctx.session, meeting.company_id).in_meeting(meeting.id, tuple(caller.persons))

    # ---- conference materials ------------------------------------------------------------------

    async def add_material(
        self,
        ctx: Context,
        token: str,
        room_id: str,
        content_type: str | None,
        declared: str | None,
        stream: AsyncIterator[bytes],
    ) -> SharedFile:
        """Attach a document to the room: its moderators (and people with access where the room lets
        participants add materials)."""
        caller = await self._caller(token, room_id)
        room = await ctx.session.get(Room, room_id)
        if room is None:
            raise NotFound(f"room {room_id} not found")
        live = self.meetings.meeting_of_room(room_id)
        company_id, participants_may_add = room.company_id, room.participants_add_materials

        def allowed() -> None:
            current = self.meetings.meeting_of_room(room_id)
            if not may_add_material(
                moderates=caller.moderates_room or caller.moderating(current),
                participants_may_add=participants_may_add,
                has_access=caller.identity.registered or bool(caller.present(current)),
            ):
                raise Forbidden("only the room's moderators add materials to it", code="materials_moderators_only")

        allowed()
        budget = await self._budget(ctx, company_id)
        received = await self._receive(budget, content_type, declared, stream, allowed)
        present = caller.present(live)
        row = SharedFile(
            room_id=room_id,
            meeting_id=live.id if live is not None else None,
            purpose=Purpose.MATERIAL.value,
            uploader_person=caller.identity.person,
            uploader_participant=present[0] if present else None,
            uploader_name=caller.identity.name[:200],
        )
        row = await self._keep(ctx, company_id, budget, received, row, allowed, caller.identity.user_id)
        live = self.meetings.meeting_of_room(room_id)
        if live is not None:
            frame = MaterialAdded(file=info(row), by_name=row.uploader_name, at=iso(row.created_at.timestamp()))
            live.broadcast(frame.wire())
        return row

    async def materials(self, ctx: Context, token: str, room_id: str) -> list[SharedFile]:
        """The room's materials: for those present in its meeting and its moderators."""
        caller = await self._caller(token, room_id)
        room = await ctx.session.get(Room, room_id)
        if room is None:
            raise NotFound(f"room {room_id} not found")
        live = self.meetings.meeting_of_room(room_id)
        if not (caller.present(live) or caller.moderates_room or caller.moderating(live)):
            raise Forbidden(
                "the room's materials are for those present in its meeting and its moderators",
                code="not_present",
            )
        return await SharedFiles(ctx.session, room.company_id).materials(room_id)

    # ---- reading and deleting ------------------------------------------------------------------

    async def _file(self, ctx: Context, token: str, file_id: str) -> tuple[Caller, SharedFile]:
        row = await ctx.session.get(SharedFile, file_id)
        if row is None:
            raise NotFound(f"file {file_id} not found")
        caller = await self._caller(token, row.room_id)
        if caller.identity.company_id != row.company_id:
            raise NotFound(f"file {file_id} not found")
        return caller, row

    async def open(self, ctx: Context, token: str, file_id: str) -> tuple[SharedFile, AsyncIterator[bytes]]:
        """The file and its bytes, for those who may read it (403 `not_allowed` for the others)."""
        caller, row = await self._file(ctx, token, file_id)
        if not may_read(facts(row), await self._reader_of(ctx, caller, row)):
            raise Forbidden("this file was not shared with you", code="not_allowed")
        ctx.session.expunge(row)  # read as it is now; no transaction stays open while the bytes stream out
        await ctx.session.rollback()
        return row, self.storage.read(row.storage_key)

    async def delete(self, ctx: Context, token: str, file_id: str) -> None:
        """Its uploader deletes a file, as do those who oversee its meeting or room; the bytes go after
        the row (a failure in between leaves unreferenced bytes, never a row without them)."""
        caller, row = await self._file(ctx, token, file_id)
        reader = await self._reader_of(ctx, caller, row)
        if not may_delete(facts(row), caller.persons, oversees=reader.oversees):
            raise Forbidden("only its uploader and the moderators delete a file", code="not_allowed")
        key, room_id, purpose = row.storage_key, row.room_id, row.purpose
        await _audit(ctx, row.company_id, caller.identity.user_id, "file.deleted", row, before=snapshot(row))
        await SharedFiles(ctx.session, row.company_id).delete(row)
        await ctx.session.commit()
        await self.storage.delete(key)
        live = self.meetings.meeting_of_room(room_id)
        if live is not None and purpose == Purpose.MATERIAL.value:
            live.broadcast(MaterialRemoved(file_id=file_id).wire())

    async def owned_keys(self, ctx: Context, company_id: str, room_id: str | None = None) -> list[str]:
        """The storage keys a room's (or a company's) deletion orphans: read before it, `purge`d after."""
        return await SharedFiles(ctx.session, company_id).keys(room_id)

    async def purge(self, keys: list[str]) -> None:
        """Remove the bytes of files whose rows are gone (a failure is logged: the bytes stay, unlisted)."""
        for key in keys:
            try:
                await self.storage.delete(key)
            except Exception:
                log.exception("could not remove stored file %s", key)

    async def close(self) -> None:
        await self.storage.close()


def _size_error(code: str, message: str) -> ApiError:
    """413 for a file over the size limit, 409 for one over the company's quota."""
    if code == "file_too_large":
        return TooLarge(message, code=code)
    return Conflict(message, code=code)


async def _audit(
    ctx: Context,
    company_id: str,
    user_id: str | None,
    action: str,
    row: SharedFile,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An audit entry in the current transaction; the actor is the user (None for a guest: the uploader's
    person key is in the snapshot)."""
    await AuditLog(ctx.session, company_id).add(
        AuditEvent(
            at=ctx.now(),
            actor_user_id=user_id,
            action=action,
            target_type="file",
            target_id=row.id,
            before=before,
            after=after,
        )
    )
