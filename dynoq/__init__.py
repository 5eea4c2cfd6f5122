"""dynoq: a sharded priority + delay queue on Redis, every state change one atomic Lua script."""

from dynoq.backoff import Backoff, Constant, Exponential
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
from dynoq.producer import aenqueue, enqueue
from dynoq.queue import AsyncQueue, Queue
from dynoq.worker import Worker, WorkerConfig

__all__ = [
    "AsyncQueue",
    "Backoff",
    "Clock",
    "ConfigError",
    "Constant",
    "DynoqError",
    "EmbeddedRedisError",
    "Exponential",
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
    "Worker",
    "WorkerConfig",
    "aenqueue",
    "enqueue",
]
__version__ = "0.1.0"
