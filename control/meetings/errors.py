"""The errors a meeting request is answered with (codes: docs/signaling.md, docs/control-api.md)."""

from __future__ import annotations

from control.domain.meeting_state import Code, Refused
from control.errors import ApiError


class MeetingError(ApiError):
    """A refused meeting request: `code` is a policy or protocol code (docs/signaling.md)."""

    status = 403
    code = "forbidden"


_STATUS = {
    Code.UNKNOWN_PARTICIPANT: 404,
    Code.MISSING_ARGUMENT: 422,
    Code.INVALID_ARGUMENT: 422,
    Code.MEETING_ENDED: 409,
    Code.ALREADY_IN_MEETING: 409,
    Code.TARGET_NOT_WAITING: 409,
    Code.TARGET_WAITING: 409,
    Code.ALREADY_VISITED: 409,
    Code.NO_WAITING_ROOM: 409,
    Code.ROOM_FULL: 409,
    Code.COMPANY_QUOTA_REACHED: 409,
    Code.WHITEBOARD_OP_TOO_LARGE: 413,
    Code.WHITEBOARD_FULL: 409,
    Code.NOTHING_TO_UNDO: 409,
    Code.RATE_LIMITED: 429,
    Code.NOT_SHARING: 409,
    Code.NO_SUCH_REQUEST: 404,
    Code.ALREADY_CONTROLLED: 409,
    Code.ALREADY_RECORDING: 409,
    Code.NOT_RECORDING: 409,
    Code.EXPIRY_IN_PAST: 409,
}


def refused(r: Refused) -> MeetingError:
    error = MeetingError(r.message, code=str(r.code))
    error.status = _STATUS.get(r.code, 403)
    return error


def engine_error(code: str, message: str, status: int) -> MeetingError:
    """The engine did not carry out a change, which therefore did not happen (nothing changed)."""
    error = MeetingError(message, code=code)
    error.status = status
    return error


def engine_unavailable(message: str) -> MeetingError:
    """No live engine worker (none to place the meeting on, or its worker was lost)."""
    return engine_error("engine_unavailable", message, 503)


def engine_refused(message: str) -> MeetingError:
    """The worker refused an operation of the change."""
    return engine_error("engine_refused", message, 502)


def engine_timeout(message: str) -> MeetingError:
    """The worker did not acknowledge the change in time."""
    return engine_error("engine_timeout", message, 504)


def store_unavailable(message: str) -> MeetingError:
    """The database did not record a change the engine applied: the engine is put back as it was,
    and the change did not happen."""
    return engine_error("store_unavailable", message, 503)


class MeetingElsewhere(MeetingError):
    """The room's meeting runs on another control-plane replica (docs/signaling.md, "Replicas"):
    signaling answers with an `error` frame carrying `url` (that replica's signaling URL) and closes
    with 4307; the REST API answers 307 with `Location` on that replica."""

    status = 307
    code = "meeting_elsewhere"

    def __init__(self, owner_url: str) -> None:
        super().__init__(f"this meeting runs on another replica, {owner_url}")
        self.owner_url = owner_url.rstrip("/")

    def signaling_url(self) -> str:
        """The owner's signaling WebSocket (ws:// for http://, wss:// for https://)."""
        scheme, rest = self.owner_url.split("://", 1) if "://" in self.owner_url else ("http", self.owner_url)
        return ("wss" if scheme == "https" else "ws") + "://" + rest + "/signaling/v1"

    def body(self) -> dict[str, object]:
        body = super().body()
        body["error"]["owner_url"] = self.owner_url
        return body
