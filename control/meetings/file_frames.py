"""The signaling frames about files (docs/signaling.md, "Files"): a file shared in chat, and the room's
conference materials added or removed while its meeting runs. Each carries the path its bytes are read
from (`GET /api/v1/files/{id}/content`, with the participant's token)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from control.meetings.frames import OutFrame


class FileInfo(OutFrame):
    id: str
    name: str
    """Sanitised."""
    content_type: str
    """Detected from the content."""
    size: int
    url: str
    """Relative to the server: GET it with the participant's token (Authorization: Bearer)."""


class FileShared(OutFrame):
    type: Literal["file"] = "file"
    file: FileInfo
    from_: str = Field(alias="from")
    from_name: str | None
    to: str | None
    """None: to everyone."""
    to_name: str | None = None
    at: str
    """ISO 8601, UTC."""


class MaterialAdded(OutFrame):
    type: Literal["material-added"] = "material-added"
    file: FileInfo
    by_name: str | None
    at: str


class MaterialRemoved(OutFrame):
    type: Literal["material-removed"] = "material-removed"
    file_id: str
