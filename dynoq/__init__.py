"""dynoq: a sharded priority + delay queue on Redis, every state change one atomic Lua script."""

from dynoq.backend.queue import AsyncQueue, Queue
from dynoq.core.backoff import Backoff, Constant, Exponential
from dynoq.core.clock import Clock
from dynoq.core.models import Message, MessageState, QueueStats, ShardStats
from dynoq.core.schedule import CatchUp, MessageAction, Schedule, Timing, WorkflowAction
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
from dynoq.runtime.producer import aenqueue, enqueue
from dynoq.runtime.schedules import Schedules
from dynoq.runtime.worker import Worker, WorkerConfig

__all__ = [
    "AsyncQueue",
    "Backoff",
    "CatchUp",
    "Clock",
    "ConfigError",
    "Constant",
    "DynoqError",
    "EmbeddedRedisError",
    "Exponential",
    "InvalidArgument",
    "InvalidMessage",
    "Message",
    "MessageAction",
    "MessageState",
    "PayloadTooLarge",
    "Queue",
    "QueueStats",
    "RedisUnavailable",
    "Schedule",
    "Schedules",
    "ScriptFailed",
    "ShardStats",
    "Timing",
    "Worker",
    "WorkerConfig",
    "WorkflowAction",
    "aenqueue",
    "enqueue",
]
__version__ = "0.1.0"
