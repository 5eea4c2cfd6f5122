"""Exceptions raised by dynoq.

Every exception dynoq raises derives from :class:`DynoqError`::

    DynoqError                  anything dynoq raises
    ├── InvalidArgument         a bad argument to a call (also a ValueError); .field names it
    │   ├── InvalidMessage      a bad message; .field names the field, .index its place in a batch
    │   │   └── PayloadTooLarge the encoded payload is over the queue's max_payload_bytes
    │   └── InvalidDefinition   a workflow or task definition with problems; .problems lists
    │                           every (json_path, message) found, not just the first
    ├── ConfigError             a bad queue option, name or Redis URL (also a ValueError)
    ├── EmbeddedRedisError      the embedded redis-server could not be found or started
    ├── NotFound                no such workflow, task or definition (also a LookupError; HTTP 404)
    │   └── QueueNotFound       no queue of that name is registered
    ├── Conflict                the operation does not fit the current state (HTTP 409)
    ├── JavaScriptError         a workflow's JavaScript expression failed, timed out or hit its
    │                           memory limit (V8, in the orchestrator)
    ├── RedisUnavailable        Redis could not be reached or the connection was lost;
    │                           the redis-py exception is kept as __cause__
    └── ScriptFailed            Redis answered a Lua script call with an unexpected error

Bad input is rejected before anything is sent to Redis, so it never changes the queue.
"""

from __future__ import annotations


class DynoqError(Exception):
    """The root of every exception dynoq raises."""


class InvalidArgument(DynoqError, ValueError):
    """An argument is out of range or of the wrong type; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidMessage(InvalidArgument):
    """A message is malformed; ``field`` names the field, ``index`` its position in a batch."""

    def __init__(self, message: str, *, field: str | None = None, index: int | None = None) -> None:
        if index is not None:
            message = f"message {index}: {message}"
        super().__init__(message, field=field)
        self.index = index


class PayloadTooLarge(InvalidMessage):
    """The encoded payload is larger than the queue allows."""


class ConfigError(DynoqError, ValueError):
    """A queue option, queue name, namespace or Redis URL is invalid."""


class EmbeddedRedisError(DynoqError):
    """The embedded redis-server is missing or failed to start."""


class RedisUnavailable(DynoqError):
    """Redis could not be reached, or the connection broke; the cause is attached."""


class ScriptFailed(DynoqError):
    """Redis returned an unexpected error for a Lua script call; the cause is attached."""


class InvalidDefinition(InvalidArgument):
    """A workflow or task definition is invalid; ``problems`` holds every (json_path, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        listed = "; ".join(f"{path}: {message}" for path, message in problems)
        first = problems[0][0] if problems else None
        super().__init__(f"invalid definition: {listed}", field=first)
        self.problems = problems


class NotFound(DynoqError, LookupError):
    """No workflow, task or definition has the given name or id."""


class QueueNotFound(NotFound):
    """No queue of that name is registered in the namespace."""

    def __init__(self, name: str) -> None:
        super().__init__(f"queue {name!r} does not exist")
        self.name = name


class Conflict(DynoqError):
    """The operation does not apply to the current state (e.g. resuming a running workflow)."""


class JavaScriptError(DynoqError):
    """A workflow's JavaScript expression failed to compile or run, or ran out of time or
    memory. Not to be confused with :class:`ScriptFailed`, a Lua script in Redis."""


ScriptError = JavaScriptError  # its earlier name, kept for callers that catch it
