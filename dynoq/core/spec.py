"""The options of one queue, validated once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dynoq.core.keys import ShardKeys, check_name, shard_keys, wake_channel
from dynoq.errors import ConfigError

DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024
MAX_SHARDS = 1024


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """What identifies a queue and how it behaves. Times are seconds, as in the public API."""

    name: str
    namespace: str = "dynoq"
    shards: int = 1
    unack_timeout: float = 60.0
    max_deliveries: int = 0
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    keys: tuple[ShardKeys, ...] = field(init=False, repr=False, compare=False)
    channel: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_name(self.name, "queue name")
        check_name(self.namespace, "namespace")
        _check_int(self.shards, "shards", 1, MAX_SHARDS)
        _check_int(self.max_deliveries, "max_deliveries", 0, 2**31)
        _check_int(self.max_payload_bytes, "max_payload_bytes", 1, 512 * 1024 * 1024)
        timeout = self.unack_timeout
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout < 0.001
        ):
            raise ConfigError(f"unack_timeout must be a finite number >= 0.001 s, got {timeout!r}")
        keys = tuple(
            shard_keys(self.namespace, self.name, i, self.shards) for i in range(self.shards)
        )
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "channel", wake_channel(self.namespace, self.name))

    @property
    def unack_timeout_ms(self) -> int:
        return max(1, round(self.unack_timeout * 1000))


def _check_int(value: object, name: str, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be an int in {lo}..{hi}, got {value!r}")
