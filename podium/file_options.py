"""`podium serve`'s options for shared files and webhook deliveries (control.files, control.webhooks)."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from control.files.settings import FileSettings
    from control.webhooks.settings import WebhookSettings

FILES_DIR_ENV = "PODIUM_FILES_DIR"
S3_SECRET_ENV = "PODIUM_FILES_S3_SECRET_ACCESS_KEY"

_SIZE = re.compile(r"^(\d+)\s*([KMG]i?B?|B)?$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def byte_size(text: str) -> int:
    """A size as written on the command line: 1048576, 512K, 100M, 2G (powers of 1024)."""
    match = _SIZE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 100M)")
    unit = (match.group(2) or "").upper()[:1]
    return int(match.group(1)) * _UNITS[unit]


def add_options(serve: argparse.ArgumentParser) -> None:
    files = serve.add_argument_group("shared files and conference materials")
    files.add_argument(
        "--files-dir",
        type=Path,
        default=Path(os.environ[FILES_DIR_ENV]) if os.environ.get(FILES_DIR_ENV) else None,
        help=f"where uploaded files are kept (or {FILES_DIR_ENV}; default: <data dir>/files); with S3, "
        "where uploads are staged",
    )
    files.add_argument(
        "--max-file-size", type=byte_size, default=100 * 1024**2, help="largest file one may upload (default 100M)"
    )
    files.add_argument("--files-s3-bucket", help="keep files in this S3-compatible bucket instead of --files-dir")
    files.add_argument("--files-s3-endpoint", help="the bucket's endpoint URL (MinIO, Ceph, …; default: AWS)")
    files.add_argument("--files-s3-region", help="the bucket's region")
    files.add_argument("--files-s3-prefix", default="", help="prepended to every key, e.g. podium/")
    files.add_argument("--files-s3-access-key-id", help="default: the usual AWS credential chain")
    files.add_argument(
        "--files-s3-secret-access-key", default=os.environ.get(S3_SECRET_ENV), help=f"(or {S3_SECRET_ENV})"
    )
    hooks = serve.add_argument_group("webhooks")
    hooks.add_argument(
        "--webhooks-allow-private",
        action="store_true",
        help="deliver webhooks to loopback, private and link-local addresses too (trusted add-in URLs only)",
    )
    hooks.add_argument(
        "--webhook-retry-base",
        type=float,
        default=5.0,
        help="seconds before the first retry of a failed delivery; each next one waits twice as long (default 5)",
    )


def settings_from(args: argparse.Namespace) -> tuple[FileSettings, WebhookSettings]:
    from datetime import timedelta

    from control.domain.webhooks import Retry
    from control.files.settings import FileSettings, S3Settings
    from control.webhooks.settings import WebhookSettings

    s3 = None
    if args.files_s3_bucket:
        s3 = S3Settings(
            bucket=args.files_s3_bucket,
            endpoint_url=args.files_s3_endpoint,
            region=args.files_s3_region,
            access_key_id=args.files_s3_access_key_id,
            secret_access_key=args.files_s3_secret_access_key,
            prefix=args.files_s3_prefix,
        )
    files = FileSettings(directory=args.files_dir, max_file_bytes=args.max_file_size, s3=s3)
    webhooks = WebhookSettings(
        allow_private=args.webhooks_allow_private, retry=Retry(base=timedelta(seconds=args.webhook_retry_base))
    )
    return files, webhooks
