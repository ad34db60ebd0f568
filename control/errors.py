"""Errors the API reports: a stable `code`, a precise `message`, one HTTP status per class."""

from typing import Any


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthenticated(ApiError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    status = 401
    code = "unauthenticated"


class Forbidden(ApiError):
    """Authenticated, but the caller's permissions do not allow this."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    """Absent, or belonging to another company (which is the same thing to the caller)."""

    status = 404
    code = "not_found"


class Conflict(ApiError):
    """Well-formed, allowed, but in conflict with the current state (duplicates, quotas, …)."""

    status = 409
    code = "conflict"


class Invalid(ApiError):
    """Input that fails validation by its schema (state-dependent refusals are 403, 404 or 409)."""

    status = 422
    code = "validation_failed"


class TooLarge(ApiError):
    """A request body over the endpoint's limit (control.settings.Limits), refused before it is read."""

    status = 413
    code = "body_too_large"


class RateLimited(ApiError):
    """Too many requests of one kind from one address; `retry_after` seconds until one is allowed again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
