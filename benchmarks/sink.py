"""Where benchmark jobs report that they started: one line per job, ``"<unix time> <tag>"``.

Every system's job is the same trivial thing: :func:`record` appends the start time and tag to
a list in memory. A daemon thread per process writes what the list holds to the file named by
$BENCH_SINK every few milliseconds, in one ``write`` (and at exit), so no job pays for file I/O
and multi-process workers (celery prefork, dramatiq, huey processes) report through the same
file: each flush is one ``O_APPEND`` write of whole lines.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from pathlib import Path

SINK_ENV = "BENCH_SINK"
TAG_WIDTH = 20  # jobs carry a 20-byte argument: the tag padded with dots
FLUSH_SECONDS = 0.005

_rows: list[tuple[float, str]] = []
_owner = 0  # the pid whose flusher thread runs (a forked child starts its own)
_lock = threading.Lock()


def pad(tag: str) -> str:
    return tag.ljust(TAG_WIDTH, ".")


def record(padded_tag: str) -> None:
    """Notes "now tag" for the file named by $BENCH_SINK (written by the flusher thread)."""
    _rows.append((time.time(), padded_tag))
    if _owner != os.getpid():
        _start_flusher()


def _start_flusher() -> None:
    global _owner
    with _lock:
        if _owner == os.getpid():
            return
        _owner = os.getpid()
        threading.Thread(target=_flush_forever, name="bench-sink", daemon=True).start()
        atexit.register(flush)


def _forked() -> None:
    """A forked child writes only its own rows, with a lock no parent thread can hold."""
    global _lock
    _lock = threading.Lock()
    _rows.clear()


os.register_at_fork(after_in_child=_forked)


def _flush_forever() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush()


def flush() -> None:
    """Writes the noted rows to $BENCH_SINK (one write) and forgets them."""
    with _lock:
        count = len(_rows)
        if not count:
            return
        rows = _rows[:count]
        del _rows[:count]
    path = os.environ[SINK_ENV]
    text = "".join(f"{t:.6f} {tag.rstrip('.')}\n" for t, tag in rows)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


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
