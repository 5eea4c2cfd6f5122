"""Service configuration: frozen dataclasses, built from explicit arguments or the environment.

``from_env`` reads ``DYNOQ_<FIELD>`` (upper case) for every field, e.g. ``DYNOQ_REDIS_URL``,
``DYNOQ_PORT``, ``DYNOQ_TOKENS`` (comma-separated); explicit keyword arguments win.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from dynoq.core.keys import check_name
from dynoq.errors import ConfigError

EMBEDDED_URL = "embedded://"
ENV_PREFIX = "DYNOQ_"

C = TypeVar("C")


def env_setting(field: str, env: Mapping[str, str] | None = None) -> str | None:
    """``DYNOQ_<FIELD>`` from the environment, None when unset or empty: every setting dynoq
    takes from the environment (``DYNOQ_REDIS_URL`` among them) is read here."""
    raw = (os.environ if env is None else env).get(ENV_PREFIX + field.upper())
    return raw or None


def _convert(raw: str, kind: Any, name: str) -> Any:
    """``raw`` as the type hint ``kind`` says: int, float, bool, str or tuple[str, ...]."""
    try:
        if kind is bool:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if kind is int or kind is float:
            return kind(raw)
        if typing.get_origin(kind) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise ConfigError(f"{name} must be {kind.__name__}, got {raw!r}") from None


def config_from_env(cls: type[C], env: Mapping[str, str] | None, overrides: dict[str, Any]) -> C:
    """``cls`` with each field from ``overrides`` (unless None), else ``DYNOQ_<FIELD>``, else
    its default."""
    hints = typing.get_type_hints(cls)
    fields = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = set(overrides) - set(fields)
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name in fields:
        if overrides.get(name) is not None:
            values[name] = overrides[name]
        elif (raw := env_setting(name, env)) is not None:
            values[name] = _convert(raw, hints[name], ENV_PREFIX + name.upper())
    return cls(**values)


# Validators the service and worker configs share.
def check_seconds(value: object, name: str, *, allow_zero: bool = False) -> None:
    """A finite number of seconds, > 0 (or >= 0 with ``allow_zero``)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")


def check_int(value: object, name: str, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be in {lo}..{hi}, got {value!r}")


def check_port(value: object, name: str) -> None:
    check_int(value, name, 0, 65535)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """``dynoq server``. New queues (first push of an unknown name) get the ``queue_*``
    options; ``tokens``, when not empty, are the accepted bearer tokens; ``system_tasks`` runs
    the workflows' HTTP tasks in the server too."""

    redis_url: str = EMBEDDED_URL
    namespace: str = "dynoq"
    host: str = "127.0.0.1"
    port: int = 8080
    max_wait: float = 20.0
    max_body_bytes: int = 8 * 1024 * 1024
    tokens: tuple[str, ...] = ()
    queue_shards: int = 1
    queue_unack_timeout: float = 60.0
    queue_max_deliveries: int = 0
    gauge_ttl: float = 2.0
    system_tasks: bool = True

    def __post_init__(self) -> None:
        check_name(self.namespace, "namespace")
        check_port(self.port, "port")
        check_seconds(self.max_wait, "max_wait", allow_zero=True)
        check_seconds(self.max_body_bytes, "max_body_bytes")
        check_seconds(self.gauge_ttl, "gauge_ttl", allow_zero=True)
        if any(not token for token in self.tokens):
            raise ConfigError("tokens must not be empty strings")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
        return config_from_env(cls, env, overrides)


@dataclass(frozen=True, slots=True)
class SweeperConfig:
    """``dynoq sweeper``: every ``interval`` seconds, sweep each shard of each registered queue
    of ``namespace`` that no other sweeper has leased for this interval."""

    redis_url: str = EMBEDDED_URL
    namespace: str = "dynoq"
    interval: float = 1.0
    metrics_port: int = 0

    def __post_init__(self) -> None:
        check_name(self.namespace, "namespace")
        check_seconds(self.interval, "interval")
        check_port(self.metrics_port, "metrics_port")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> SweeperConfig:
        return config_from_env(cls, env, overrides)


@dataclass(frozen=True, slots=True)
class DeciderConfig:
    """``dynoq decider``: decides up to ``concurrency`` workflows at once, taken from the
    decider queue of ``namespace``; with ``system_tasks``, also runs the HTTP tasks."""

    redis_url: str = EMBEDDED_URL
    namespace: str = "dynoq"
    concurrency: int = 64
    system_tasks: bool = True
    metrics_port: int = 0

    def __post_init__(self) -> None:
        check_name(self.namespace, "namespace")
        check_int(self.concurrency, "concurrency", 1, 10_000)
        check_port(self.metrics_port, "metrics_port")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> DeciderConfig:
        return config_from_env(cls, env, overrides)


@dataclass(frozen=True, slots=True)
class WorkflowSweeperConfig:
    """``dynoq workflow-sweeper``: every ``interval`` seconds, checks up to ``batch`` running
    workflows of ``namespace`` (round robin) and repairs what a crash left behind."""

    redis_url: str = EMBEDDED_URL
    namespace: str = "dynoq"
    interval: float = 1.0
    batch: int = 200
    metrics_port: int = 0

    def __post_init__(self) -> None:
        check_name(self.namespace, "namespace")
        check_seconds(self.interval, "interval")
        check_int(self.batch, "batch", 1, 1_000_000)
        check_port(self.metrics_port, "metrics_port")

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> WorkflowSweeperConfig:
        return config_from_env(cls, env, overrides)


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    """``dynoq scheduler``: fires the due schedules of ``namespace``, up to ``batch`` ticks
    per pop; every ``repair_interval`` seconds one scheduler re-arms schedules left without a
    tick. Run one or several."""

    redis_url: str = EMBEDDED_URL
    namespace: str = "dynoq"
    batch: int = 100
    repair_interval: float = 300.0
    metrics_port: int = 0

    def __post_init__(self) -> None:
        check_name(self.namespace, "namespace")
        check_int(self.batch, "batch", 1, 10_000)
        check_seconds(self.repair_interval, "repair_interval")
        check_port(self.metrics_port, "metrics_port")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> SchedulerConfig:
        return config_from_env(cls, env, overrides)
