"""Pure parts of the services: configuration from the environment, backoff, the registry's
reconciliation, log formatting."""

from __future__ import annotations

import json
import logging

import pytest

from dynoq import ConfigError, Constant, Exponential, InvalidArgument, WorkerConfig
from dynoq.backend.registry import QueueEntry, _reconcile
from dynoq.core.spec import QueueSpec
from dynoq.runtime.logs import JsonFormatter
from dynoq.runtime.settings import ServerConfig, SweeperConfig


def test_server_config_from_env_with_overrides_winning():
    env = {"DYNOQ_PORT": "9000", "DYNOQ_TOKENS": "a, b", "DYNOQ_MAX_WAIT": "5", "DYNOQ_HOST": "h"}
    config = ServerConfig.from_env(env, host="0.0.0.0", port=None)
    assert (config.port, config.tokens, config.max_wait, config.host) == (
        9000,
        ("a", "b"),
        5.0,
        "0.0.0.0",
    )


@pytest.mark.parametrize(
    ("cls", "env", "match"),
    [
        (ServerConfig, {"DYNOQ_PORT": "http"}, "DYNOQ_PORT must be int"),
        (ServerConfig, {"DYNOQ_PORT": "70000"}, "port must be in"),
        (ServerConfig, {"DYNOQ_NAMESPACE": "a b"}, "namespace must match"),
        (ServerConfig, {"DYNOQ_MAX_WAIT": "-1"}, "max_wait"),
        (SweeperConfig, {"DYNOQ_INTERVAL": "0"}, "interval"),
        (WorkerConfig, {"DYNOQ_CONCURRENCY": "0"}, "concurrency"),
        (WorkerConfig, {"DYNOQ_GRACE_PERIOD": "soon"}, "DYNOQ_GRACE_PERIOD must be float"),
    ],
)
def test_bad_config_is_a_config_error(cls, env, match):
    with pytest.raises(ConfigError, match=match):
        cls.from_env(env)


def test_unknown_options_are_refused():
    with pytest.raises(ConfigError, match="unknown option"):
        SweeperConfig.from_env({}, colour="blue")


def test_exponential_backoff_doubles_up_to_the_cap_and_never_overflows():
    backoff = Exponential(1, cap=300)
    assert [backoff.delay(a) for a in (1, 2, 3, 9, 10, 10**6)] == [1, 2, 4, 256, 300, 300]
    jittered = Exponential(10, cap=100, jitter=True)
    assert all(0 <= jittered.delay(3) <= 40 for _ in range(100))
    assert Constant(2.5).delay(7) == 2.5
    with pytest.raises(InvalidArgument):
        Exponential(1, factor=0.5)


def test_registry_reconciliation():
    spec = QueueSpec("q", "ns", shards=2, max_deliveries=3)
    assert json.loads(_reconcile(spec, None)) == json.loads(QueueEntry.of(spec).to_json())
    assert _reconcile(spec, QueueEntry.of(spec).to_json()) is None
    other = QueueSpec("q", "ns", shards=2, max_deliveries=9)
    assert json.loads(_reconcile(other, QueueEntry.of(spec).to_json()))["max_deliveries"] == 9
    with pytest.raises(ConfigError, match="shards=2, opened with shards=4"):
        _reconcile(QueueSpec("q", "ns", shards=4), QueueEntry.of(spec).to_json())
    with pytest.raises(ConfigError, match="unreadable"):
        _reconcile(spec, b"{not json")


def test_json_log_lines():
    record = logging.LogRecord("dynoq.x", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["logger"], line["message"]) == ("info", "dynoq.x", "hello you")
