"""The operator's choices for shared files: where they are kept and how big one may be."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class S3Settings:
    """An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, …) instead of the local directory."""

    bucket: str
    endpoint_url: str | None = None
    """None: AWS's own endpoint for `region`."""
    region: str | None = None
    access_key_id: str | None = None
    """None (with the secret): the usual AWS credential chain (environment, profile, instance role)."""
    secret_access_key: str | None = None
    prefix: str = ""
    """Prepended to every key, e.g. "podium/"."""


@dataclass(frozen=True)
class FileSettings:
    directory: Path | None = None
    """Where files are kept on local disk (`podium serve --files-dir`); None: <data dir>/files. With S3,
    uploads are still staged here before they are sent to the bucket."""
    max_file_bytes: int = 100 * 1024 * 1024
    """Bytes one uploaded file may hold (`podium serve --max-file-size`); 413 `file_too_large` beyond."""
    s3: S3Settings | None = None
    """Keep files in an S3-compatible bucket (`podium serve --files-s3-bucket` …); None: local disk."""

    def resolved_directory(self, data_dir: Path) -> Path:
        return self.directory if self.directory is not None else data_dir / "files"
