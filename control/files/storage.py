"""The file store: a small interface (`Storage`), and the local-disk implementation.

An upload is first received into a staging file (`control.files.upload`), then handed to the store
under a key Podium chose (never derived from the uploader's name). Reads are streamed in chunks.
"""

import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

from control.files.settings import FileSettings

CHUNK = 64 * 1024
"""Bytes per read when a file is sent back."""

_KEY = re.compile(r"^[a-z0-9]{2}/[a-z0-9]{32}$")


def new_key() -> str:
    """A fresh storage key: two hex characters of fan-out, then 32 more (no name, no user input)."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}"


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class MissingFile(Exception):
    """The store holds nothing under that key."""


class Storage(Protocol):
    """Where the bytes of shared files live."""

    def staging(self) -> Path:
        """A directory for incoming uploads, on local disk (so an upload is never held in memory)."""
        ...

    async def put(self, key: str, staged: Path, content_type: str) -> None:
        """Keep the staged file under `key`; the staged file is gone afterwards."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The file's bytes, chunk by chunk; MissingFile if absent."""
        ...

    async def delete(self, key: str) -> None:
        """Forget the file (nothing happens if it is absent)."""
        ...

    async def close(self) -> None: ...


class LocalStorage:
    """Files under one directory: <root>/<fan-out>/<key>, staged in <root>/.staging (same file system,
    so keeping a file is a rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._staging = root / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)

    def staging(self) -> Path:
        return self._staging

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, staged: Path, content_type: str) -> None:
        target = self._path(key)

        def move() -> None:
            target.parent.mkdir(exist_ok=True)
            os.replace(staged, target)

        await anyio.to_thread.run_sync(move)

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await anyio.open_file(path, "rb")
        except FileNotFoundError:
            raise MissingFile(key) from None
        async with handle:
            while chunk := await handle.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def close(self) -> None:
        return None


def open_storage(settings: FileSettings, data_dir: Path) -> Storage:
    """The store the settings name: an S3-compatible bucket, else the local directory."""
    directory = settings.resolved_directory(data_dir)
    if settings.s3 is not None:
        from control.files.s3 import S3Storage  # aioboto3 is imported only where a bucket is configured

        return S3Storage(settings.s3, directory / ".staging")
    return LocalStorage(directory)
