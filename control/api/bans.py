"""A room's bans: /rooms/{room_id}/bans (lifting one needs no running meeting)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input
from control.meetings.errors import MeetingElsewhere
from control.services import bans

endpoints = EndpointGroup(tag="rooms")

Person = Annotated[str, StringConstraints(pattern=r"^[ug]:[0-9a-f]{32}$")]
"""A person key: u:<user id> or g:<invitation id>."""


class RoomPath(Input):
    room_id: Id


class BanPath(Input):
    room_id: Id
    person: Person


class BanOut(BaseModel):
    person: str = Field(description="u:<user id>, or g:<invitation id> for a guest")
    name: str | None = Field(description="the user's or guest's name, when known")
    banned_at: datetime


class BansOut(BaseModel):
    items: list[BanOut]


@endpoints.get("/rooms/{room_id}/bans", path_model=RoomPath, response=BansOut, errors=(403, 404))
async def list_room_bans(call: Call) -> BansOut:
    """List a room's bans

    The bans in force in the room: each person's key (`u:<user id>` or `g:<invitation id>`), name (null when
    unknown, or hidden without Show all usernames) and when they were banned. The room's organizers and moderators
    and holders of Administrate rooms (403 `no_access` for others)."""
    found = await bans.list_bans(call.ctx, call.principal, call.path.room_id)
    return BansOut(items=[BanOut(person=b.person, name=b.name, banned_at=b.banned_at) for b in found])


@endpoints.delete("/rooms/{room_id}/bans/{person}", path_model=BanPath, status=204, errors=(307, 403, 404))
async def unban(call: Call) -> None:
    """Lift a ban

    Lift a person's ban from the room, with or without a running meeting (the room's organizers and moderators,
    holders of Administrate rooms); 404 if the person is not banned. Audited as `room.unban`. Bans are imposed in a
    meeting, with the `ban` moderation action. While another control-plane replica runs the room's meeting, 307
    `meeting_elsewhere` to that replica (which lifts it in the meeting too)."""
    meetings = call.request.app.state.meetings
    if meetings.meeting_of_room(call.path.room_id) is None:
        url = await meetings.ownership.owner_url(call.path.room_id)
        if url is not None:
            raise MeetingElsewhere(url)
    await bans.unban(call.ctx, call.principal, call.path.room_id, call.path.person, call.request.app.state.meetings)
