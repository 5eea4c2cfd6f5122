"""Every Lua script (queue, workflow, schedules) documents its KEYS and ARGV; includes resolve."""

from __future__ import annotations

import re

import pytest

from dynoq.backend.scripts import (
    SCHEDULE_SCRIPT_NAMES,
    SCRIPT_NAMES,
    WORKFLOW_SCRIPT_NAMES,
    lua_dir,
    script_source,
)


def header_and_body(name: str) -> tuple[str, str]:
    """The leading comment block, and the code after it."""
    lines = (lua_dir() / f"{name}.lua").read_text().splitlines(keepends=True)
    count = next(
        i for i, line in enumerate(lines) if not line.startswith("--") or "!include" in line
    )
    return "".join(lines[:count]), "".join(lines[count:])


def documented(header: str, kind: str) -> tuple[set[int], int | None]:
    """The numbered entries a header names, and where an open range (``ARGV[5..]``) starts."""
    numbers = {int(n) for n in re.findall(rf"{kind}\[(\d+)\]", header)}
    ranges = [(int(a), b) for a, b in re.findall(rf"{kind}\[(\d+)\.\.(\d*)\]", header)]
    for start, end in ranges:
        if end:
            numbers |= set(range(start, int(end) + 1))
    open_from = min((start for start, end in ranges if not end), default=None)
    return numbers, open_from


@pytest.mark.parametrize("name", SCRIPT_NAMES + WORKFLOW_SCRIPT_NAMES + SCHEDULE_SCRIPT_NAMES)
def test_script_header_names_every_key_and_argument(name):
    header, body = header_and_body(name)
    assert header.startswith(f"-- {name.rsplit('/', 1)[-1]}: ")
    assert "Returns:" in header
    for kind in ("KEYS", "ARGV"):
        used = {int(n) for n in re.findall(rf"{kind}\[(\d+)\]", body)}
        numbers, open_from = documented(header, kind)
        missing = {n for n in used - numbers if open_from is None or n < open_from}
        assert not missing, f"{kind} entries used but not documented: {missing}"
        if re.search(rf"{kind}\[[a-z]", body):  # indexed by a variable: an open range
            assert open_from is not None, f"{kind}[i] used but no open range documented"


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_queue_scripts_bind_the_six_shard_keys(name):
    header, _ = header_and_body(name)
    assert "KEYS[1..6]" in header


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_includes_are_resolved_once(name):
    source = script_source(name)
    assert "--!include" not in source
    helpers = re.findall(r"^local function (\w+)", source, re.MULTILINE)
    assert len(helpers) == len(set(helpers))
    assert "NEW_RECORD" in source  # lib/keys.lua, which every queue script includes


def test_every_script_file_is_registered():
    files = {p.stem for p in lua_dir().glob("*.lua")}
    assert files == set(SCRIPT_NAMES)
    workflow = {f"workflow/{p.stem}" for p in (lua_dir() / "workflow").glob("*.lua")}
    assert workflow == set(WORKFLOW_SCRIPT_NAMES)
    schedules = {f"schedules/{p.stem}" for p in (lua_dir() / "schedules").glob("*.lua")}
    assert schedules == set(SCHEDULE_SCRIPT_NAMES)
    assert {p.name for p in lua_dir().iterdir() if p.is_dir()} == {"lib", "workflow", "schedules"}
