"""The operator files name commands, options and settings that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from dynoq.cli.main import build_parser
from dynoq.runtime.settings import (
    DeciderConfig,
    ServerConfig,
    SweeperConfig,
    WorkflowSweeperConfig,
)
from dynoq.runtime.worker import WorkerConfig

DEPLOY = Path(__file__).parents[2] / "deploy"


@pytest.mark.parametrize(
    "unit", sorted((DEPLOY / "systemd").glob("*.service")), ids=lambda p: p.name
)
def test_unit_command_lines_parse(unit):
    [exec_start] = re.findall(r"^ExecStart=(.+)$", unit.read_text(), re.MULTILINE)
    argv = shlex.split(exec_start.replace("%i", "myapp.tasks:worker"))
    assert argv[0].endswith("/dynoq")
    build_parser().parse_args(argv[1:])  # exits (SystemExit) on an unknown option


def test_env_file_names_only_known_settings():
    fields = {
        f"DYNOQ_{name.upper()}"
        for config in (
            ServerConfig,
            SweeperConfig,
            WorkerConfig,
            DeciderConfig,
            WorkflowSweeperConfig,
        )
        for name in config.__dataclass_fields__
    }
    names = re.findall(r"^(DYNOQ_\w+)=", (DEPLOY / "dynoq.env").read_text(), re.MULTILINE)
    assert names and set(names) <= fields
