"""Attendance of a meeting: /meetings/{meeting_id}/attendance (JSON, or CSV with ?format=csv)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from starlette.responses import Response

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input
from control.domain.roles import Role
from control.services import attendance

endpoints = EndpointGroup(tag="attendance")


class MeetingPath(Input):
    meeting_id: Id


class AttendanceQuery(Input):
    format: Literal["json", "csv"] = Field("json", description="csv: a text/csv download, one row per person")


class SessionOut(BaseModel):
    joined_at: datetime
    left_at: datetime | None = Field(description="null while still in the meeting")


class PersonOut(BaseModel):
    person: str = Field(description="user id, or a guest's invitee key")
    name: str
    role: Role | None = Field(description="the highest role held in the meeting")
    present: bool = Field(description="in the meeting now")
    sessions: list[SessionOut] = Field(description="each stay in the meeting (waiting room excluded), in order")
    total_seconds: float = Field(description="time in the meeting, waiting room excluded")
    waiting_seconds: float
    microphone_seconds: float
    camera_seconds: float
    screen_share_seconds: float


class PresenceOut(BaseModel):
    person: str
    name: str
    role: Role | None
    waiting: bool = Field(description="in the waiting room")
    since: datetime
    media: list[Literal["microphone", "camera", "screen_share"]] = Field(description="media on now")


class AttendanceOut(BaseModel):
    meeting_id: str
    started_at: datetime | None
    ended_at: datetime | None
    until: datetime = Field(description="the meeting's end, or now while it runs: open stays count up to it")
    people: list[PersonOut] = Field(description="everyone who joined or waited, in order of arrival")
    present: list[PresenceOut] = Field(description="the live list: who is in the meeting or waiting now")


@endpoints.get(
    "/meetings/{meeting_id}/attendance",
    path_model=MeetingPath,
    query=AttendanceQuery,
    response=AttendanceOut,
    errors=(403, 404),
    alternative_media_types=("text/csv",),
)
async def get_attendance(call: Call) -> AttendanceOut | Response:
    """Attendance report of a meeting

    Who attended a meeting, running or ended: each person's stays (joins and leaves), total time, time in the
    waiting room, and time with microphone, camera and screen share on, with the live list of who is in it now.
    Administrate rooms, or an organizer or moderator of the meeting (403 `permission_required` otherwise).
    `?format=csv` gives a `text/csv` download, one row per person. Names follow Show all usernames."""
    report = await attendance.report_for(call.ctx, call.principal, call.path.meeting_id)
    if call.query.format == "csv":
        return Response(
            attendance.report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="attendance-{report.meeting_id}.csv"'},
        )
    return AttendanceOut.model_validate(attendance.report_json(report))
