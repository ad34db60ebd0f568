"""Datagrams the kernel dropped at a process's UDP sockets because their receive buffer was full (the
`drops` column of /proc/<pid>/net/udp and udp6, for the sockets the process holds): where a level's
loss happened when neither SFU nor generator counted it, e.g. an SFU's socket overflowing while its
process waited for a core on a loaded machine."""

from __future__ import annotations

import contextlib
import os


def _inodes(pid: int | str, fds: set[int] | None = None) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            if fds is not None and int(fd) not in fds:
                continue
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def socket_drops(pid: int | str, fds: set[int] | None = None) -> int:
    """Receive-buffer drops summed over the process's UDP sockets, or those of its file descriptors
    `fds` (0 when it is gone)."""
    inodes = _inodes(pid, fds)
    total = 0
    for table in ("udp", "udp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as f:
            next(f, None)
            for line in f:
                fields = line.split()
                if len(fields) > 12 and fields[9] in inodes:
                    total += int(fields[-1])
    return total
