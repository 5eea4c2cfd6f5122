"""Every Lua script documents its KEYS and ARGV, and includes resolve."""

from __future__ import annotations

import re

import pytest

from dynoq.backend.scripts import SCRIPT_NAMES, lua_dir, script_source


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_script_header_names_every_key_and_argument(name):
    text = (lua_dir() / f"{name}.lua").read_text()
    header = text.split("--!include")[0]
    assert header.startswith(f"-- {name}: ")
    assert "KEYS[1..6]" in header and "Returns:" in header
    body = text[len(header) :]
    used = {int(n) for n in re.findall(r"ARGV\[(\d+)\]", body)}
    documented = {int(n) for n in re.findall(r"ARGV\[(\d+)", header)}
    assert used <= documented, f"ARGV entries used but not documented: {used - documented}"


@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_includes_are_resolved_once(name):
    source = script_source(name)
    assert "--!include" not in source
    assert source.count("local function bind_shard_keys") == 1


def test_every_script_file_is_registered():
    files = {p.stem for p in lua_dir().glob("*.lua")}
    assert files == set(SCRIPT_NAMES)
