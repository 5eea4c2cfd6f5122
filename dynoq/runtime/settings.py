"""Service configuration: frozen dataclasses, built from explicit arguments or the environment.

``from_env`` reads ``DYNOQ_<FIELD>`` (upper case) for every field, e.g. ``DYNOQ_REDIS_URL``,
``DYNOQ_PORT``, ``DYNOQ_TOKENS`` (comma-separated); explicit keyword arguments win.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from dynoq.core.keys import check_name
from dynoq.errors import ConfigError

EMBEDDED_URL = "embedded://"

C = TypeVar("C")


def _convert(raw: str, kind: str, name: str) -> Any:
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if kind.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError:
        raise ConfigError(f"{name} must be {kind}, got {raw!r}") from None


def config_from_env(cls: type[C], env: Mapping[str, str] | None, overrides: dict[str, Any]) -> C:
    """``cls`` with each field from ``overrides`` (unless None), else ``DYNOQ_<FIELD>``, else
    its default."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if overrides.get(f.name) is not None:
            values[f.name] = overrides[f.name]
        elif (raw := env.get(f"DYNOQ_{f.name.upper()}")) not in (None, ""):
            values[f.name] = _convert(raw, str(f.type), f"DYNOQ_{f.name.upper()}")
    unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    if unknown:
        raise ConfigError(f"unknown option(s): {', '.join(sorted(unknown))}")
    return cls(**values)


def _positive(value: float, name: str, *, allow_zero: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")


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
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in 0..65535, got {self.port}")
        _positive(self.max_wait, "max_wait", allow_zero=True)
        _positive(self.max_body_bytes, "max_body_bytes")
        _positive(self.gauge_ttl, "gauge_ttl", allow_zero=True)
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
        _positive(self.interval, "interval")
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be in 0..65535, got {self.metrics_port}")

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
        if isinstance(self.concurrency, bool) or not 1 <= self.concurrency <= 10_000:
            raise ConfigError(f"concurrency must be in 1..10000, got {self.concurrency}")
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be in 0..65535, got {self.metrics_port}")

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
        _positive(self.interval, "interval")
        if isinstance(self.batch, bool) or not 1 <= self.batch <= 1_000_000:
            raise ConfigError(f"batch must be in 1..1000000, got {self.batch}")
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be in 0..65535, got {self.metrics_port}")

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
        if isinstance(self.batch, bool) or not 1 <= self.batch <= 10_000:
            raise ConfigError(f"batch must be in 1..10000, got {self.batch}")
        _positive(self.repair_interval, "repair_interval")
        if not 0 <= self.metrics_port <= 65535:
            raise ConfigError(f"metrics_port must be in 0..65535, got {self.metrics_port}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> SchedulerConfig:
        return config_from_env(cls, env, overrides)
