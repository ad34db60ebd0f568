"""Receiving one uploaded file: a multipart/form-data body streamed through python-multipart (the parser
Starlette's own form handling uses) into a staging file on disk, chunk by chunk, never held whole in
memory. The caller's `check` runs on every chunk with the bytes received so far, so a file over its
size limit or the company's quota, or an uploader who lost the right mid-way, stops the upload at once:
the staging file is removed and nothing is kept.

The body carries one file in the field named `file`; any other field is read and ignored (bounded).
"""

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from control.domain.files import SNIFF_BYTES
from control.errors import ApiError, BadRequest

FIELD = "file"
"""The form field that carries the file."""

DRAIN_LIMIT = 32 * 1024 * 1024
"""Bytes of a refused body still read (and dropped) so that the client reads the error instead of a
reset connection; a larger body is cut off."""

MAX_HEADER_BYTES = 8 * 1024
"""Bytes of one part's headers."""


@dataclass(frozen=True)
class Received:
    staged: Path
    """The file's bytes, on disk in the store's staging directory (the caller keeps or removes it)."""
    filename: str
    """As the client named it (unsanitised)."""
    size: int
    head: bytes
    """The first SNIFF_BYTES bytes, for type detection."""


class _Parts:
    """python-multipart callbacks: collect headers of each part, and the bytes of the file part of the
    current request chunk (written to disk after each chunk, off the event loop)."""

    def __init__(self) -> None:
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.headers: dict[bytes, bytes] = {}
        self.header_bytes = 0
        self.in_file = False
        self.seen_file = False
        self.file_done = False
        self.filename = ""
        self.pending = bytearray()
        self.error: str | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field_data,
            "on_header_value": self.header_value_data,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def part_begin(self) -> None:
        self.headers, self.header_bytes = {}, 0

    def header_field_data(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]
        self._count(end - start)

    def header_value_data(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]
        self._count(end - start)

    def _count(self, n: int) -> None:
        self.header_bytes += n
        if self.header_bytes > MAX_HEADER_BYTES:
            raise MultipartParseError("a part's headers are too long")

    def header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self.in_file = disposition == b"form-data" and name == FIELD and not self.seen_file
        if self.in_file:
            self.seen_file = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.pending += data[start:end]

    def part_end(self) -> None:
        if self.in_file:
            self.file_done = True
        self.in_file = False


def boundary_of(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary or len(boundary) > 200:
        raise BadRequest(
            "the upload must be a multipart/form-data body with the file in the field 'file'",
            code="multipart_required",
        )
    return boundary


async def receive(
    content_type: str | None, stream: AsyncIterator[bytes], staging: Path, check: Callable[[int], None]
) -> Received:
    """Stream the body's file part into a new file under `staging`. `check(size)` raises (an ApiError)
    to refuse the upload; then, and on malformed input, the staging file is removed, the rest of the
    body is drained up to DRAIN_LIMIT, and the error is raised."""
    parts = _Parts()
    parser = MultipartParser(boundary_of(content_type), parts.callbacks())
    staged = staging / ("upload-" + secrets.token_hex(12))
    size = 0
    head = bytearray()
    try:
        check(0)
        async with await anyio.open_file(staged, "wb") as out:
            async for chunk in stream:
                try:
                    parser.write(chunk)
                except MultipartParseError as error:
                    raise BadRequest(f"malformed multipart body: {error}", code="malformed_multipart") from None
                if parts.pending:
                    size += len(parts.pending)
                    check(size)
                    if len(head) < SNIFF_BYTES:
                        head += parts.pending[: SNIFF_BYTES - len(head)]
                    await out.write(bytes(parts.pending))
                    parts.pending.clear()
            try:
                parser.finalize()
            except MultipartParseError as error:
                raise BadRequest(f"malformed multipart body: {error}", code="malformed_multipart") from None
        if not parts.file_done:
            raise BadRequest("the upload carries no complete field named 'file'", code="file_missing")
        check(size)
        return Received(staged, parts.filename, size, bytes(head))
    except ApiError:
        await _discard(staged)
        await _drain(stream)
        raise
    except BaseException:
        await _discard(staged)
        raise


async def _discard(staged: Path) -> None:
    with contextlib.suppress(OSError):
        await anyio.to_thread.run_sync(lambda: staged.unlink(missing_ok=True))


async def _drain(stream: AsyncIterator[bytes]) -> None:
    """Read and drop the rest of a refused body (up to DRAIN_LIMIT bytes)."""
    dropped = 0
    with contextlib.suppress(Exception):
        async for chunk in stream:
            dropped += len(chunk)
            if dropped > DRAIN_LIMIT:
                break
