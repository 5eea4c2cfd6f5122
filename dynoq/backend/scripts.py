"""Reads the Lua scripts, resolving ``--!include`` lines, once per process."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

_INCLUDE = re.compile(r"^--!include\s+(\S+)\s*$", re.MULTILINE)

SCRIPT_NAMES = (
    "push", "ensure", "pop", "ack", "nack", "set_unack_timeout", "set_delay", "remove",
    "get", "peek", "stats", "sweep", "dead_letters", "requeue_dead", "browse",
)  # fmt: skip
# The orchestrator's scripts, in lua/workflow/.
WORKFLOW_SCRIPT_NAMES = tuple(
    f"workflow/{name}"
    for name in (
        "acquire", "claim", "claim_task", "create", "post", "post_result", "read", "release",
        "save",
    )
)  # fmt: skip
# The scheduler's scripts, in lua/schedules/.
SCHEDULE_SCRIPT_NAMES = ("schedules/fire", "schedules/record")


def lua_dir() -> Path:
    """Installed wheels carry the scripts in ``dynoq/lua``; a source checkout in ``lua/``."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "lua"
    return packaged if packaged.is_dir() else package.parent / "lua"


@functools.cache
def script_source(name: str) -> str:
    root = lua_dir()
    seen: set[str] = set()

    def resolve(match: re.Match[str]) -> str:
        path = match.group(1)
        if path in seen:  # each library is pulled in once, where it is first named
            return ""
        seen.add(path)
        return _INCLUDE.sub(resolve, (root / path).read_text())

    return _INCLUDE.sub(resolve, (root / f"{name}.lua").read_text())


@functools.cache
def script_sha(name: str) -> str:
    """The SHA1 EVALSHA knows the script ``name`` by."""
    return hashlib.sha1(script_source(name).encode()).hexdigest()
