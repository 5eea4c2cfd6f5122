"""dynoq: a sharded priority + delay queue on Redis, every state change one atomic Lua script."""

from dynoq.clock import Clock
from dynoq.errors import (
    ConfigError,
    DynoqError,
    EmbeddedRedisError,
    InvalidArgument,
    InvalidMessage,
    PayloadTooLarge,
    RedisUnavailable,
    ScriptFailed,
)
from dynoq.models import Message, MessageState, QueueStats, ShardStats
from dynoq.queue import AsyncQueue, Queue

__all__ = [
    "AsyncQueue",
    "Clock",
    "ConfigError",
    "DynoqError",
    "EmbeddedRedisError",
    "InvalidArgument",
    "InvalidMessage",
    "Message",
    "MessageState",
    "PayloadTooLarge",
    "Queue",
    "QueueStats",
    "RedisUnavailable",
    "ScriptFailed",
    "ShardStats",
]
__version__ = "0.1.0"
