"""A meeting's whiteboard: /meetings/{meeting_id}/whiteboard (JSON), .svg and .png (drawing goes
through signaling)."""

from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response

from control.api.endpoint import Call, EndpointGroup
from control.api.schemas import Id, Input
from control.domain.whiteboard import HEIGHT, WIDTH
from control.meetings.whiteboard_wire import encode
from control.services import whiteboard_export

endpoints = EndpointGroup(tag="whiteboard")


class MeetingPath(Input):
    meeting_id: Id


class PngQuery(Input):
    scale: float = Field(1.0, ge=0.1, le=4.0, description="pixels per board unit (the board is 1600 × 900)")


class WhiteboardOut(BaseModel):
    width: int = Field(description="the board's coordinate space")
    height: int
    ops: list[dict[str, Any]] = Field(description="every operation in order (docs/signaling.md, Whiteboard)")


@endpoints.get("/meetings/{meeting_id}/whiteboard", path_model=MeetingPath, response=WhiteboardOut, errors=(403, 404))
async def get_whiteboard(call: Call) -> WhiteboardOut:
    """A meeting's whiteboard operations

    Every operation of the meeting's whiteboard in the server's order (seq from 1), for people who took part, its
    moderators and holders of Administrate rooms (403 `not_a_participant` for others). The board is the fold
    described in docs/signaling.md; `.svg` and `.png` draw it."""
    ops = await whiteboard_export.operations_for(call.ctx, call.principal, call.path.meeting_id)
    return WhiteboardOut(width=WIDTH, height=HEIGHT, ops=[encode(op) for op in ops])


@endpoints.get(
    "/meetings/{meeting_id}/whiteboard.svg", path_model=MeetingPath, errors=(403, 404), media_type="image/svg+xml"
)
async def export_whiteboard_svg(call: Call) -> Response:
    """A meeting's whiteboard as SVG

    The board as it stands after its last operation, as an SVG document (same readers as the JSON)."""
    ops = await whiteboard_export.operations_for(call.ctx, call.principal, call.path.meeting_id)
    return Response(whiteboard_export.svg(ops), media_type="image/svg+xml")


@endpoints.get(
    "/meetings/{meeting_id}/whiteboard.png",
    path_model=MeetingPath,
    query=PngQuery,
    errors=(403, 404),
    media_type="image/png",
)
async def export_whiteboard_png(call: Call) -> Response:
    """A meeting's whiteboard as PNG

    The board as it stands after its last operation, as a PNG image (same readers as the JSON)."""
    ops = await whiteboard_export.operations_for(call.ctx, call.principal, call.path.meeting_id)
    return Response(whiteboard_export.png(ops, call.query.scale), media_type="image/png")
