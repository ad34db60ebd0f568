"""The recordings kept on disk: ``<recordings dir>/<company id>/<recording id>/`` holds a recording's
files and ``recording.json``, its description (who, when, state, files and sizes).

The description is the record: listing, download and deletion read the directory, so a recording
is never listed without its files. Only names a description lists are ever opened (no path from a
request reaches the file system)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DESCRIPTION = "recording.json"
CHUNK = 64 * 1024
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class RecordingLibrary:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _company(self, company_id: str) -> Path:
        if not _ID.match(company_id):
            raise ValueError("invalid company id")
        return self.root / company_id

    def directory(self, company_id: str, recording_id: str) -> Path:
        if not _ID.match(recording_id):
            raise KeyError(recording_id)
        return self._company(company_id) / recording_id

    def write(self, description: dict[str, Any]) -> None:
        """Write a recording's description (atomically: a reader sees the old one or the new)."""
        directory = self.directory(description["company_id"], description["id"])
        directory.mkdir(parents=True, exist_ok=True)
        files = description.get("files", [])
        for f in files:
            path = directory / f["name"]
            f["bytes"] = path.stat().st_size if path.is_file() else 0
        description["bytes"] = sum(f["bytes"] for f in files)
        temporary = directory / (DESCRIPTION + ".tmp")
        temporary.write_text(json.dumps(description, indent=1))
        temporary.replace(directory / DESCRIPTION)

    def get(self, company_id: str, recording_id: str) -> dict[str, Any]:
        """The description; KeyError when there is none."""
        try:
            path = self.directory(company_id, recording_id) / DESCRIPTION
            return json.loads(path.read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            raise KeyError(recording_id) from None

    def list(self, company_id: str) -> list[dict[str, Any]]:
        """The company's recordings, newest first."""
        company = self._company(company_id)
        if not company.is_dir():
            return []
        found = []
        for directory in company.iterdir():
            try:
                found.append(self.get(company_id, directory.name))
            except KeyError:
                continue
        return sorted(found, key=lambda d: (d.get("started_at", ""), d["id"]), reverse=True)

    def file(self, company_id: str, recording_id: str, name: str) -> Path:
        """A file the recording's description lists; KeyError otherwise."""
        description = self.get(company_id, recording_id)
        if name not in {f["name"] for f in description.get("files", [])}:
            raise KeyError(name)
        path = self.directory(company_id, recording_id) / name
        if not path.is_file():
            raise KeyError(name)
        return path

    def delete(self, company_id: str, recording_id: str) -> dict[str, Any]:
        description = self.get(company_id, recording_id)
        shutil.rmtree(self.directory(company_id, recording_id), ignore_errors=True)
        return description

    def used_bytes(self, company_id: str) -> int:
        """What the company's recordings take on disk (a running one counted as far as written)."""
        company = self._company(company_id)
        if not company.is_dir():
            return 0
        return sum(p.stat().st_size for p in company.rglob("*") if p.is_file())


def chunks(path: Path) -> Iterator[bytes]:
    """A file read piece by piece, for a streamed download."""
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def storage_quota(default: int | None, company: Any = None) -> int | None:
    """The bytes a company may store. The per-company storage quota of files (another branch adds it
    to the company) is read here once it exists; until then the instance's `--storage-quota`."""
    quota = getattr(company, "storage_quota_bytes", None)
    return quota if isinstance(quota, int) else default
