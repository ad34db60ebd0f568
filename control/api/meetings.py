"""Live meetings and moderation: /rooms/{room_id}/meeting, /meetings/{meeting_id}/…

Moderation actions answer only once the engine acknowledged the table version that enforces them
(the reply carries that version)."""

import time
from typing import Annotated, Any

from pydantic import BaseModel, Field

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input, example
from control.domain.meeting_state import USER_PREFIX
from control.domain.moderation import Action, Command
from control.domain.roles import Capability, Source
from control.errors import NotFound
from control.meetings.errors import MeetingElsewhere
from control.meetings.service import MeetingService
from control.services import rooms
from control.store.repositories.meetings import MeetingStore

endpoints = EndpointGroup(tag="meetings")

ParticipantId = Annotated[str, Field(min_length=1, max_length=64)]


class RoomPath(Input):
    room_id: Id


class MeetingPath(Input):
    meeting_id: Id


class MeetingOut(BaseModel):
    id: str
    room_id: str
    worker_id: str
    workers: list[str] = Field(
        description="the engine workers its participants are on, worker_id first (more than one: it spans them)"
    )
    presenter_mode: bool
    chat_enabled: bool
    recording: bool = Field(False, description="a recording of the meeting runs")
    participants: list[dict[str, Any]] = Field(
        description="participant objects, as in docs/signaling.md (names by the rule Show all usernames)"
    )


class ActionIn(Input):
    model_config = example(action="revoke_permission", target="p3f9a2c41d07e", capability="microphone")

    action: Action = Field(description="the moderation action; docs/signaling.md lists what each needs")
    target: ParticipantId | None = Field(None, description="the participant acted on (actions on someone)")
    source: Source | None = Field(None, description="the source turned on or off (turn_on_source, turn_off_source)")
    capability: Capability | None = Field(None, description="the capability granted or revoked")
    person: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="a person key, u:<user id> or g:<invitation id> (unban)"
    )
    seconds: float | None = Field(
        None, gt=0, le=10 * 365 * 86400, description="how long a removal lasts (remove_for_period)"
    )
    as_participant: ParticipantId | None = Field(
        None, description="which of the caller's connections acts (default: the first)"
    )


class ActionOut(BaseModel):
    action: Action
    version: int | None = Field(description="engine table version enforcing it (null: no media changed)")


def _service(call: Call) -> MeetingService:
    return call.request.app.state.meetings


async def _elsewhere(call: Call, room_id: str) -> None:
    """MeetingElsewhere (307 to that replica) when another replica runs the room's meeting."""
    url = await _service(call).ownership.owner_url(room_id)
    if url is not None:
        raise MeetingElsewhere(url)


async def _meeting(call: Call, meeting_id: str):  # type: ignore[no-untyped-def]
    """The live meeting, if the caller may see it: a meeting of another company is not found, nor one
    of a room the caller does not see. A caller who is in the meeting (their user has a participant
    there, waiting or admitted) sees it without a store read: they were let in with access to the room,
    and what they may do there is decided by the meeting's own state (MeetingService.act)."""
    live = _service(call).meeting(meeting_id)
    if live is None:
        row = await MeetingStore(call.ctx.session).meeting(meeting_id)
        if row is not None and row.ended_at is None and row.company_id == call.principal.company_id:
            await _elsewhere(call, row.room_id)
    if live is None or live.company_id != call.principal.company_id:
        raise NotFound(f"meeting {meeting_id} not found")
    if not live.state.of_person(USER_PREFIX + call.principal.user_id):
        await rooms.get_room(call.ctx, call.principal, live.room_id)  # visible to the caller
    return live


@endpoints.get("/rooms/{room_id}/meeting", path_model=RoomPath, response=MeetingOut, errors=(307, 404))
async def get_room_meeting(call: Call) -> MeetingOut:
    """The room's running meeting

    The meeting running in a room the caller sees, in the same shape as `GET /meetings/{meeting_id}`; 404
    `not_found` when none runs. People join it over signaling (`docs/signaling.md`), not over REST."""
    await rooms.get_room(call.ctx, call.principal, call.path.room_id)
    live = _service(call).meeting_of_room(call.path.room_id)
    if live is None:
        await _elsewhere(call, call.path.room_id)
        raise NotFound("no meeting runs in this room")
    return MeetingOut(**_service(call).snapshot(live, call.principal))


@endpoints.get("/meetings/{meeting_id}", path_model=MeetingPath, response=MeetingOut, errors=(307, 404))
async def get_meeting(call: Call) -> MeetingOut:
    """Get a running meeting

    Its participants (waiting ones included) with roles, permissions and sources, whether presenter mode is on and
    chat enabled, the engine worker it opened on and the workers its participants are on (more than one when it spans
    workers: docs/deployment.md). Visible to the people in it and to those who see its room; names
    follow Show all usernames. An ended meeting is 404 (its records are in `GET /rooms/{room_id}/meetings` and the
    attendance report)."""
    live = await _meeting(call, call.path.meeting_id)
    return MeetingOut(**_service(call).snapshot(live, call.principal))


@endpoints.post(
    "/meetings/{meeting_id}/actions",
    path_model=MeetingPath,
    body=ActionIn,
    response=ActionOut,
    errors=(307, 403, 404, 409, 502, 503, 504),
)
async def act(call: Call) -> ActionOut:
    """Moderate a running meeting

    The same actions as signaling's `moderate` frame (`docs/signaling.md`, "Moderation actions"), with the same
    fields. **The caller must be in the meeting**: their user needs a participant there, joined over signaling, and
    acts as that participant with its meeting role (`as_participant` picks one of several connections; without one,
    404 `unknown_participant`). Holding a company permission does not let anyone moderate a meeting they are not in.

    The answer comes once the engine worker acknowledged the table version that enforces the action (`version`; null
    when no media changed). Refusals carry the policy's code: 403 (`role_too_low`, `target_not_lower`,
    `permission_missing`, …), 404 `unknown_participant`, 409 (`meeting_ended`, `target_waiting`, …), 422
    `missing_argument`/`invalid_argument`, 503 `engine_unavailable` when the engine did not acknowledge in time."""
    started = time.perf_counter()
    service = _service(call)
    live = await _meeting(call, call.path.meeting_id)
    body: ActionIn = call.body
    actor = service.actor_for_user(live, call.principal.user_id, body.as_participant)
    command = Command(
        body.action,
        target=body.target,
        source=body.source,
        capability=body.capability,
        person=body.person,
        seconds=body.seconds,
    )
    version = await service.act(live, actor, command, started=started)
    return ActionOut(action=body.action, version=version)
