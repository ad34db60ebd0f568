"""control.files.upload: a multipart body streamed to a staging file, refused mid-way with nothing kept."""

import secrets
from collections.abc import AsyncIterator

import pytest

from control.errors import BadRequest, TooLarge
from control.files.upload import receive

BOUNDARY = "xYzBoundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def body(content: bytes, *, name: str = "file", filename: str = "a.bin", before: bytes = b"") -> bytes:
    return (
        before
        + f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


async def chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def nothing(size: int) -> None:
    return None


async def test_the_file_part_is_streamed_to_disk(tmp_path):
    content = secrets.token_bytes(100_000)
    other = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nignored\r\n'.encode()
    seen: list[int] = []
    got = await receive(
        CONTENT_TYPE, chunks(body(content, filename="r\u00e9sum\u00e9.pdf", before=other)), tmp_path, seen.append
    )
    assert got.staged.read_bytes() == content and got.size == len(content)
    assert got.filename == "r\u00e9sum\u00e9.pdf" and got.head == content[:512]
    assert seen[0] == 0 and seen[-1] == len(content) and seen == sorted(seen) and len(seen) > 50


async def test_a_refusal_mid_way_removes_the_staging_file_and_drains_the_body(tmp_path):
    data = body(secrets.token_bytes(50_000))
    read: list[int] = []

    async def counted() -> AsyncIterator[bytes]:
        async for chunk in chunks(data):
            read.append(len(chunk))
            yield chunk

    def limit(size: int) -> None:
        if size > 10_000:
            raise TooLarge("too big", code="file_too_large")

    with pytest.raises(TooLarge):
        await receive(CONTENT_TYPE, counted(), tmp_path, limit)
    assert list(tmp_path.iterdir()) == [] and sum(read) == len(data)


@pytest.mark.parametrize(
    ("content_type", "data", "code"),
    [
        ("application/json", b"{}", "multipart_required"),
        ("multipart/form-data", b"", "multipart_required"),
        (CONTENT_TYPE, body(b"x", name="other"), "file_missing"),
        (CONTENT_TYPE, body(b"x")[:-20], "file_missing"),
        (CONTENT_TYPE, b"garbage without a boundary", "malformed_multipart"),
        (CONTENT_TYPE, b"--" + BOUNDARY.encode() + b"\r\n" + b"X" * 20_000 + b": y\r\n\r\n", "malformed_multipart"),
    ],
)
async def test_malformed_bodies_are_refused_clearly(tmp_path, content_type, data, code):
    with pytest.raises(BadRequest) as error:
        await receive(content_type, chunks(data), tmp_path, nothing)
    assert error.value.code == code
    assert list(tmp_path.iterdir()) == []


async def test_an_empty_file_is_a_file(tmp_path):
    got = await receive(CONTENT_TYPE, chunks(body(b"")), tmp_path, nothing)
    assert got.size == 0 and got.staged.read_bytes() == b""
