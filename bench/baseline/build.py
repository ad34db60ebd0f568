"""Compiles the benchmark's C programs (forwarder, load generators, sink, meeting media) into bench/baseline/build/.

Each benchmark calls build() first: a program is recompiled only when its source or a shared header is newer
than the binary, so every run measures the code in the working tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / "build"
PROGRAMS = ("forwarder", "loadgen", "sink", "meeting_media", "pacer")
CFLAGS = ("-O2", "-Wall", "-Wextra")
# loadgen and meeting_media dlopen pylibsrtp's extension (srtp_dl.h) and export the one CPython data
# symbol it needs
LINK_FLAGS = {"loadgen": ("-rdynamic", "-ldl"), "meeting_media": ("-rdynamic", "-ldl")}
HEADERS = ("common.h", "srtp_dl.h", "rtcp_feedback.h", "seen_window.h")


def build(force: bool = False) -> dict[str, Path]:
    """Compiles what is stale; returns {program name: path of its binary}."""
    compiler = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise RuntimeError("no C compiler: the benchmark's baselines need gcc (or $CC)")
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    binaries = {}
    for name in PROGRAMS:
        source = HERE / f"{name}.c"
        binary = BUILD_DIR / name
        newest = max(
            source.stat().st_mtime, Path(__file__).stat().st_mtime, *((HERE / h).stat().st_mtime for h in HEADERS)
        )
        if force or not binary.exists() or binary.stat().st_mtime < newest:
            partial = BUILD_DIR / f".{name}.{os.getpid()}"
            result = subprocess.run(
                [compiler, *CFLAGS, "-o", str(partial), str(source), *LINK_FLAGS.get(name, ())],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if result.returncode != 0:
                partial.unlink(missing_ok=True)
                raise RuntimeError(f"compiling {source.name} failed:\n{result.stderr}")
            os.replace(partial, binary)  # atomic: a concurrent run sees the old or the new binary
        binaries[name] = binary
    return binaries


if __name__ == "__main__":
    for name, path in build(force=True).items():
        print(f"{name}: {path}")
