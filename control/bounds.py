"""Bounded input: a request body is measured before it is read, a JSON document before it is validated,
and what is said about bad input is itself bounded.

Each step's work is bounded by a limit checked before it (control.settings.Limits), so that no request
holds the event loop for more than a few milliseconds: the body's size (Content-Length first, then the
streamed bytes as they come), then its parse and shape (nesting depth, number of values; in a worker
thread when the body is big), then the schema's validation, whose problems are reported up to
MAX_PROBLEMS, each message cut to MAX_MESSAGE characters.
"""

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, ValidationError

from control.errors import BadRequest, Invalid, TooLarge

MAX_PROBLEMS = 20
MAX_MESSAGE = 200
THREAD_ABOVE = 64 * 1024
"""Bytes above which a JSON body is parsed and measured in a worker thread, off the event loop."""


class ShapeError(Exception):
    """A JSON document nested too deeply or holding too many values."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class NotJson(Exception):
    """Not JSON in UTF-8."""


def check_length(header: str | None, limit: int, what: str) -> None:
    """The Content-Length header against the limit, before a byte of the body is read."""
    if header is None:
        return
    try:
        length = int(header)
    except ValueError:
        raise BadRequest("Content-Length is not a number", code="bad_content_length") from None
    if length > limit:
        raise TooLarge(f"request body of {length} bytes is larger than {limit} bytes, the limit of {what}")


async def read_body(stream: AsyncIterator[bytes], content_length: str | None, limit: int, what: str) -> bytes:
    """The body, read while it stays within `limit` bytes: TooLarge as soon as the declared length or the
    bytes received exceed it (the rest is never read)."""
    check_length(content_length, limit, what)
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"request body is larger than {limit} bytes, the limit of {what}")
        chunks.append(chunk)
    return b"".join(chunks)


def measure(data: Any, max_depth: int, max_values: int) -> None:
    """ShapeError when `data` nests deeper than `max_depth` or holds more than `max_values` values. Stops at
    the first value over either limit, so its work is bounded by the limits, not by the document."""
    values = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        values += 1
        if values > max_values:
            raise ShapeError("json_too_many_values", f"JSON holds more than {max_values} values")
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= max_depth and children:
            raise ShapeError("json_too_deep", f"JSON nests deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def decode(
    raw: str | bytes, max_depth: int, max_values: int, model: type[BaseModel] | None = None, where: str = "body"
) -> Any:
    """The JSON document, checked: NotJson; Invalid for top-level keys that `model` forbids (see
    `unknown_fields`); ShapeError for nesting deeper than `max_depth` (or than the parser's own recursion
    limit) or more than `max_values` values."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ShapeError("json_too_deep", f"JSON nests deeper than {max_depth} levels") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise NotJson() from None
    if model is not None:
        refusal = unknown_fields(model, data, where)
        if refusal is not None:
            raise refusal
    measure(data, max_depth, max_values)
    return data


async def decode_off_loop(
    raw: bytes, max_depth: int, max_values: int, model: type[BaseModel] | None = None, where: str = "body"
) -> Any:
    """`decode`, in a worker thread when `raw` is over THREAD_ABOVE bytes."""
    if len(raw) > THREAD_ABOVE:
        return await anyio.to_thread.run_sync(decode, raw, max_depth, max_values, model, where)
    return decode(raw, max_depth, max_values, model, where)


def problems(exc: ValidationError, where: str) -> tuple[list[dict[str, Any]], int]:
    """The first MAX_PROBLEMS problems of a validation (each message cut), and how many there were."""
    listed = [
        {
            "field": ".".join(str(part) for part in (where, *e["loc"]))[:MAX_MESSAGE],
            "message": _cut(e["msg"]),
            "type": e["type"],
        }
        for e in exc.errors(include_url=False, include_context=False, include_input=False)[:MAX_PROBLEMS]
    ]
    return listed, exc.error_count()


def invalid(summary: str, listed: list[dict[str, Any]], total: int) -> Invalid:
    """422 `validation_failed`, saying how many problems were left out of `details`."""
    if total > len(listed):
        summary = f"{summary}: {total} problems, the first {len(listed)} listed"
    return Invalid(summary, details=listed)


def unknown_fields(model: type[BaseModel], data: Any, where: str) -> Invalid | None:
    """The body's top-level keys that `model` forbids, as a bounded 422, found without validating: a body of
    many unknown keys costs a set difference, not one validation error object per key."""
    if not isinstance(data, dict) or model.model_config.get("extra") != "forbid":
        return None
    known = {field.alias or name for name, field in model.model_fields.items()}
    unknown = [key for key in data if key not in known]
    if not unknown:
        return None
    listed = [
        {
            "field": f"{where}.{key}"[:MAX_MESSAGE],
            "message": "Extra inputs are not permitted",
            "type": "extra_forbidden",
        }
        for key in unknown[:MAX_PROBLEMS]
    ]
    return invalid(f"invalid {where}", listed, len(unknown))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
