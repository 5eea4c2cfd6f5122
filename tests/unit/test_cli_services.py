"""The service commands come from one table: each option sets its config field, typed by the
config's own type hints, and the environment fills in what the command line leaves out."""

from __future__ import annotations

import pytest

from dynoq.cli.main import SERVICES, _service_overrides, build_parser
from dynoq.runtime import settings


def config_of(argv: list[str], env: dict[str, str] | None = None) -> object:
    args = build_parser().parse_args(argv)
    service = SERVICES[args.command]
    config_class = getattr(settings, service.config)
    return config_class.from_env(env or {}, **_service_overrides(args, service))


def test_every_option_names_a_field_of_its_config():
    for service in SERVICES.values():
        fields = getattr(settings, service.config).__dataclass_fields__
        assert {option.field for option in service.options} <= set(fields)


def test_server_options_become_typed_fields():
    argv = ["server", "--port", "9000", "--token", "a", "--token", "b", "--no-system-tasks"]
    config = config_of(argv, {"DYNOQ_HOST": "0.0.0.0", "DYNOQ_PORT": "1"})
    assert (config.port, config.tokens, config.system_tasks) == (9000, ("a", "b"), False)
    assert config.host == "0.0.0.0"  # not on the command line: from the environment


def test_options_left_out_keep_the_environment_and_the_defaults():
    config = config_of(["decider"], {"DYNOQ_SYSTEM_TASKS": "false", "DYNOQ_CONCURRENCY": "8"})
    assert (config.system_tasks, config.concurrency, config.metrics_port) == (False, 8, 0)
    config = config_of(["workflow-sweeper", "--interval", "0.25"])
    assert (config.interval, config.batch) == (0.25, 200)


def test_a_value_of_the_wrong_type_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["sweeper", "--interval", "soon"])
    assert exit_.value.code == 2
    assert "--interval: invalid float value: 'soon'" in capsys.readouterr().err
