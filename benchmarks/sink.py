"""Where benchmark jobs report that they started: one line per job, ``"<unix time> <tag>"``.

Every system's no-op job calls :func:`record` first thing, so the same cost (one ``write``
syscall, a few microseconds) is paid by every system, and multi-process workers (celery prefork,
dramatiq) report through the same file: appends of one short line are atomic under ``O_APPEND``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SINK_ENV = "BENCH_SINK"
TAG_WIDTH = 20  # jobs carry a 20-byte argument: the tag padded with dots

_fd: int | None = None
_fd_path: str | None = None


def pad(tag: str) -> str:
    return tag.ljust(TAG_WIDTH, ".")


def record(padded_tag: str) -> None:
    """Appends "now tag" to the file named by $BENCH_SINK (opened once per process)."""
    global _fd, _fd_path
    now = time.time()
    path = os.environ[SINK_ENV]
    if _fd is None or _fd_path != path:
        _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        _fd_path = path
    os.write(_fd, f"{now:.6f} {padded_tag.rstrip('.')}\n".encode())


def count(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def read(path: Path) -> list[tuple[float, str]]:
    """The recorded (start time, tag) pairs, in start-time order."""
    rows = []
    for line in path.read_text().splitlines():
        stamp, _, tag = line.partition(" ")
        rows.append((float(stamp), tag))
    rows.sort()
    return rows
