"""Shared files: what a stored name may be, what a file's bytes say it is, whether it fits, and who may
read it. Pure functions over plain data; the upload itself is streamed by `control.files.upload`.

A file is either shared in a meeting's chat (to everyone or to one person) or a conference material,
attached to a room. Its type comes from its first bytes, never from the name or the browser's claim,
and a download is always served as an attachment of that type (so no uploaded page runs in Podium's
origin).
"""

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

MAX_NAME = 200
"""Longest stored file name, in characters (its extension kept)."""

SNIFF_BYTES = 512
"""How many leading bytes `detect_type` looks at."""

OCTET_STREAM = "application/octet-stream"


class Purpose(StrEnum):
    CHAT = "chat"
    """Shared in a meeting's chat, to everyone or to one person."""
    MATERIAL = "material"
    """A conference material: attached to a room, listed in its meetings."""


_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def sanitize_name(name: str) -> str:
    """A file name safe to store, list and send back in Content-Disposition: the last path segment of
    what the browser sent, in NFC, without control characters, path or shell-special characters, without
    leading dots or trailing dots and spaces, at most MAX_NAME characters (the extension kept); "file"
    when nothing is left."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE.sub("_", name).strip().lstrip(".").rstrip(". ")
    if not name:
        return "file"
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16 and stem:
            name = stem[: MAX_NAME - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME]
    return name


_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"{\\rtf", "application/rtf"),
    (4, b"ftyp", "video/mp4"),
)

_OFFICE = {
    b"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    b"xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    b"ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def detect_type(head: bytes) -> str:
    """The media type the leading bytes show (at least SNIFF_BYTES of them, or the whole file if
    shorter): a known signature, else text/plain for UTF-8 text without NUL, else
    application/octet-stream. HTML, SVG and scripts are text/plain: never rendered from Podium's origin."""
    if head[:4] == b"RIFF" and len(head) >= 12:
        riff = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}.get(head[8:12])
        return riff or OCTET_STREAM
    if head[:4] == b"PK\x03\x04":
        # Office Open XML and OpenDocument files are zip archives whose first entries name their kind
        if b"mimetypeapplication/vnd.oasis.opendocument" in head:
            return "application/vnd.oasis.opendocument"
        for folder, media_type in _OFFICE.items():
            if folder in head:
                return media_type
    for offset, signature, media_type in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return media_type
    if head and b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError as error:
            # a multi-byte character cut at the end of the sniffed bytes is still text
            if error.start >= len(head) - 3 and error.reason == "unexpected end of data":
                return "text/plain"
    return OCTET_STREAM


@dataclass(frozen=True)
class Budget:
    """The company's limits that bound one upload."""

    max_file: int
    """Bytes one file may hold."""
    quota: int
    """Bytes all of the company's stored files may hold together."""
    used: int
    """Bytes the company's files hold now."""


def size_refusal(size: int, budget: Budget) -> tuple[str, str] | None:
    """Why a file of `size` bytes may not be stored, as (code, message), or None. Checked on the declared
    length before reading and on every chunk while receiving."""
    if size > budget.max_file:
        return "file_too_large", f"a file may hold at most {budget.max_file} bytes"
    if budget.used + size > budget.quota:
        left = max(budget.quota - budget.used, 0)
        return (
            "storage_quota_exceeded",
            f"the company's storage quota of {budget.quota} bytes is reached ({left} bytes left)",
        )
    return None


@dataclass(frozen=True)
class SharedFile:
    """What the read rule needs to know of a stored file."""

    purpose: Purpose
    uploader: str
    """Person key of whoever uploaded it."""
    recipient: str | None
    """Person key of the one person a chat file was sent to; None: to everyone."""


@dataclass(frozen=True)
class Reader:
    """Who asks to read a file, in relation to its meeting or room."""

    persons: frozenset[str]
    """The caller's person keys (a user has two spellings: `u:<id>` and `<id>`)."""
    took_part: bool
    """In the file's meeting (chat), or present in the room's running meeting (materials)."""
    oversees: bool
    """Holds Administrate rooms, or moderates the meeting (chat) or the room (materials)."""


def may_read(file: SharedFile, reader: Reader) -> bool:
    """Downloads only for those who may see the message: a one-to-one file for its sender and its
    recipient, nobody else (not even moderators, as with one-to-one chat); a file to everyone for
    whoever took part in the meeting and those who oversee it; a material for those present in the
    room's meeting and those who moderate the room."""
    if file.uploader in reader.persons:
        return True
    if file.purpose is Purpose.CHAT and file.recipient is not None:
        return file.recipient in reader.persons
    return reader.took_part or reader.oversees


def may_delete(file: SharedFile, persons: frozenset[str], *, oversees: bool) -> bool:
    """Its uploader deletes a file, and so do those who oversee its meeting or room."""
    return file.uploader in persons or oversees


def may_add_material(*, moderates: bool, participants_may_add: bool, has_access: bool) -> bool:
    """Moderators of the room (and holders of Administrate rooms) attach materials; participants with
    access to the room do where the room allows it."""
    return moderates or (participants_may_add and has_access)
