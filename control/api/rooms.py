"""Rooms, their features and access rights: /rooms/…"""

from datetime import datetime

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, Name, Page, PageQuery, Search, example
from control.domain.roles import Role
from control.domain.rooms import presence_visible
from control.meetings import closing
from control.replicas.notices import Notice
from control.services import history, rooms

endpoints = EndpointGroup(tag="rooms")

MAX_PARTICIPANTS = 100_000


class RoomOut(BaseModel):
    id: str
    name: str
    department_id: str | None
    hidden: bool = Field(description="absent from lists and search for everyone without access")
    waiting_room: bool
    chat: bool
    screen_share: bool = Field(description="screen sharing allowed")
    participants_may_start: bool = Field(
        description="people without moderator rights enter while no moderator is present (otherwise they wait for one)"
    )
    participants_add_materials: bool = Field(
        False, description="participants (not only moderators) attach conference materials"
    )
    max_participants: int
    role: Role | None = Field(description="the caller's default role in the room, if any")
    created_at: datetime
    online: int | None = Field(
        None,
        description="how many are in its running meeting now (waiting room and hidden "
        "people excluded); null where the caller may not see its presence",
    )


class RoomIn(Input):
    model_config = example(
        name="Board room",
        department_id=None,
        hidden=False,
        waiting_room=True,
        chat=True,
        screen_share=True,
        participants_may_start=False,
        max_participants=25,
    )

    name: Name
    department_id: Id | None = Field(None, description="the department it belongs to; null: none")
    hidden: bool = Field(False, description="absent from lists and search for everyone without access")
    waiting_room: bool = Field(False, description="people wait until a moderator admits them")
    chat: bool = Field(True, description="meeting chat enabled")
    screen_share: bool = Field(True, description="screen sharing allowed")
    participants_may_start: bool = Field(
        False,
        description="people without moderator rights enter while no moderator is present; "
        "false: they wait for a moderator",
    )
    participants_add_materials: bool = Field(
        False, description="participants (not only moderators) attach conference materials"
    )
    max_participants: int | None = Field(
        None, ge=1, le=MAX_PARTICIPANTS, description="default and ceiling: the company's quota"
    )


class RoomUpdateIn(Input):
    model_config = example(waiting_room=False, max_participants=50)

    name: Name | None = None
    department_id: Id | None = Field(None, description="null: outside any department")
    hidden: bool | None = None
    waiting_room: bool | None = None
    chat: bool | None = None
    screen_share: bool | None = None
    participants_may_start: bool | None = None
    participants_add_materials: bool | None = None
    max_participants: int | None = Field(None, ge=1, le=MAX_PARTICIPANTS)


class RoomQuery(PageQuery):
    q: Search | None = Field(None, description="part of the room's name")
    department_id: Id | None = Field(None, description="only this department's rooms")


class RoomPath(Input):
    room_id: Id


class AccessPath(Input):
    room_id: Id
    user_id: Id


class AccessIn(Input):
    model_config = example(role="moderator")

    role: Role = Field(description="the default role in the room's meetings")


class AccessOut(BaseModel):
    user_id: str
    email: str
    name: str
    role: Role


class MeetingOut(BaseModel):
    id: str
    room_id: str
    started_at: datetime
    ended_at: datetime | None = Field(description="null while it runs")
    end_reason: str | None
    running: bool


def out(view: rooms.RoomView, call: Call | None = None) -> RoomOut:
    r = view.room
    online = None
    meetings = getattr(call.request.app.state, "meetings", None) if call is not None else None
    if meetings is not None and presence_visible(
        call.principal.permissions,
        view.role,  # type: ignore[union-attr]
        hidden=r.hidden,
    ):
        online = meetings.online(r.id)
    return RoomOut(
        id=r.id,
        name=r.name,
        department_id=r.department_id,
        hidden=r.hidden,
        waiting_room=r.waiting_room,
        chat=r.chat,
        screen_share=r.screen_share,
        participants_may_start=r.participants_may_start,
        participants_add_materials=r.participants_add_materials,
        max_participants=r.max_participants,
        role=view.role,
        created_at=r.created_at,
        online=online,
    )


@endpoints.get("/rooms", query=RoomQuery, response=Page[RoomOut])
async def list_rooms(call: Call) -> Page[RoomOut]:
    """List rooms

    The rooms the caller sees, by name: every room that is not hidden, and hidden ones only with an access right
    there (or List all rooms). `q` matches part of the name, `department_id` keeps one department's rooms. Each has
    `online`, how many are in its running meeting (a count, never names), where the caller may see presence."""
    q: RoomQuery = call.query
    page = await rooms.list_rooms(
        call.ctx, call.principal, offset=q.offset, limit=q.limit, search=q.q, department_id=q.department_id
    )
    return Page[RoomOut](items=[out(v, call) for v in page.items], total=page.total, offset=q.offset, limit=q.limit)


@endpoints.post("/rooms", body=RoomIn, response=RoomOut, status=201, errors=(403, 404, 409))
async def create_room(call: Call) -> RoomOut:
    """Create a room

    Create a room within the company's quota (Create a room, else 403 `permission_required`); the caller becomes its
    organizer. 409 `quota_exceeded` beyond the company's room quota, 409 `room_size_exceeds_quota` when
    `max_participants` exceeds the company's participant quota; 404 for a department not in the company."""
    return out(await rooms.create_room(call.ctx, call.principal, call.body.model_dump()), call)


@endpoints.get("/rooms/{room_id}", path_model=RoomPath, response=RoomOut, errors=(404,))
async def get_room(call: Call) -> RoomOut:
    """Get a room

    One room the caller sees, with the caller's default role there (`role`, null without an access right). A hidden
    room without access is 404, as is another company's."""
    return out(await rooms.get_room(call.ctx, call.principal, call.path.room_id), call)


@endpoints.patch("/rooms/{room_id}", path_model=RoomPath, body=RoomUpdateIn, response=RoomOut, errors=(403, 404, 409))
async def update_room(call: Call) -> RoomOut:
    """Change a room

    Its name, department (`null`: none), visibility or features (Administrate rooms, or organizing the room; else
    403 `room_administration_required`). Fields left out stay as they are. The changes apply to the next meeting; a
    running meeting keeps the features it started with."""
    changes = call.body.model_dump(exclude_unset=True)
    return out(await rooms.update_room(call.ctx, call.principal, call.path.room_id, changes), call)


@endpoints.delete("/rooms/{room_id}", path_model=RoomPath, status=204, errors=(403, 404))
async def delete_room(call: Call) -> None:
    """Delete a room

    Needs Administrate rooms, or organizing the room (403 `room_administration_required` otherwise). Its access
    rights, guest invitations, group links, conference materials and shared files, and the records of its past
    meetings go with it. A meeting running in it ends first, for everyone (`disconnected` with the reason
    `room_deleted`)."""
    room_id = call.path.room_id
    meetings = call.request.app.state.meetings
    await rooms.may_delete_room(call.ctx, call.principal, room_id)
    await closing.end_room_meetings(meetings, room_id)  # its attendance is recorded while the room exists
    files = call.request.app.state.files
    keys = await files.owned_keys(call.ctx, call.principal.company_id, room_id)
    await rooms.delete_room(call.ctx, call.principal, room_id)
    await meetings.ownership.tell(Notice.END_ROOM, room_id)  # a meeting another replica runs
    await files.purge(keys)


@endpoints.get(
    "/rooms/{room_id}/access", path_model=RoomPath, query=PageQuery, response=Page[AccessOut], errors=(403, 404)
)
async def list_room_access(call: Call) -> Page[AccessOut]:
    """List a room's access rights

    Who has an access right in the room, with their default role there (Administrate rooms, or organizing the room;
    else 403 `room_administration_required`)."""
    q: PageQuery = call.query
    page = await rooms.list_access(call.ctx, call.principal, call.path.room_id, offset=q.offset, limit=q.limit)
    return Page[AccessOut](
        items=[AccessOut(user_id=u.id, email=u.email, name=u.name, role=role) for u, role in page.items],
        total=page.total,
        offset=q.offset,
        limit=q.limit,
    )


@endpoints.put("/rooms/{room_id}/access/{user_id}", path_model=AccessPath, body=AccessIn, status=204, errors=(403, 404))
async def set_room_access(call: Call) -> None:
    """Give an access right

    Give a user of the company an access right in the room with a default role: `organizer`, `moderator` or
    `participant` (Administrate rooms, or organizing the room; else 403 `room_administration_required`). Setting it
    again changes the role. 404 for a user not in the company."""
    await rooms.set_access(call.ctx, call.principal, call.path.room_id, call.path.user_id, call.body.role)


@endpoints.delete("/rooms/{room_id}/access/{user_id}", path_model=AccessPath, status=204, errors=(403, 404))
async def remove_room_access(call: Call) -> None:
    """Remove an access right

    Remove a user's access right in the room (Administrate rooms, or organizing the room; else 403
    `room_administration_required`); 404 if the user has none. It does not remove the user from a running meeting
    (the meeting's `exclude`, `remove_for_period` and `ban` actions do)."""
    await rooms.remove_access(call.ctx, call.principal, call.path.room_id, call.path.user_id)


@endpoints.get(
    "/rooms/{room_id}/meetings", path_model=RoomPath, query=PageQuery, response=Page[MeetingOut], errors=(403, 404)
)
async def list_room_meetings(call: Call) -> Page[MeetingOut]:
    """List a room's meetings

    The room's meetings, newest first, with `started_at`, `ended_at` (null while running), `end_reason` and
    `running`: what attendance reports (`GET /meetings/{meeting_id}/attendance`) are chosen from. Administrate
    rooms, or the room's organizers and moderators; 403 `no_access` for others with access, 404 for rooms the caller
    cannot see."""
    q: PageQuery = call.query
    page = await history.list_meetings(call.ctx, call.principal, call.path.room_id, offset=q.offset, limit=q.limit)
    return Page[MeetingOut](
        items=[
            MeetingOut(
                id=m.id,
                room_id=m.room_id,
                started_at=m.started_at,
                ended_at=m.ended_at,
                end_reason=m.end_reason,
                running=m.ended_at is None,
            )
            for m in page.items
        ],
        total=page.total,
        offset=q.offset,
        limit=q.limit,
    )
