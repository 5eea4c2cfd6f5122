"""The values a queue takes and returns: messages and statistics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dynoq.errors import InvalidMessage

MAX_ID_BYTES = 512
MAX_PRIORITY = 99
MAX_DELAY_SECONDS = 100 * 365 * 24 * 3600.0


class MessageState(StrEnum):
    """Where a message is in its life cycle."""

    READY = "ready"
    DELAYED = "delayed"
    IN_FLIGHT = "in_flight"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Message:
    """A message: what you push, and what pop, get, peek and dead_letters return.

    ``priority`` 0 is served first (0..99). ``delay`` is seconds until the message is due.
    ``attempts``, ``receipt``, ``state``, ``shard``, ``due_at`` and ``lease_expires_at`` are
    filled in by the queue: ``attempts`` counts deliveries, ``receipt`` identifies one delivery
    (pass the message itself to ack/nack and it is used). ``due_at`` is when the message is
    due (delayed) or last became due (ready, in flight: so ``pop`` time minus ``due_at`` is the
    time it waited), ``lease_expires_at`` when its lease ends (in flight); Unix seconds.
    """

    id: str
    payload: Any = None
    priority: int = 0
    delay: float = 0.0
    attempts: int = field(default=0, compare=False)
    receipt: str | None = field(default=None, compare=False)
    state: MessageState | None = field(default=None, compare=False)
    shard: int | None = field(default=None, compare=False)
    due_at: float | None = field(default=None, compare=False)
    lease_expires_at: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_id(self.id)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise InvalidMessage(
                f"priority must be an int, got {type(self.priority).__name__}", field="priority"
            )
        if not 0 <= self.priority <= MAX_PRIORITY:
            raise InvalidMessage(
                f"priority must be in 0..{MAX_PRIORITY}, got {self.priority}", field="priority"
            )
        check_seconds(self.delay, "delay", InvalidMessage, maximum=MAX_DELAY_SECONDS)


class MessageSlots:
    """Message's slot layout without its frozen ``__setattr__``, to build messages read back
    from Redis: made with ``object.__new__``, every slot filled in by plain attribute stores,
    then its ``__class__`` set to Message (CPython allows that between classes of one layout).
    Less than half the time of calling each slot's own setter, and this is the pop hot path.
    ``type(m) is Message`` afterwards, and it is as frozen as any."""

    __slots__ = Message.__slots__


def stored_message(
    message_id: str,
    payload: Any,
    priority: int,
    attempts: int,
    receipt: str | None,
    state: MessageState,
    shard: int,
    due_at: float | None,
    lease_expires_at: float | None,
) -> Message:
    """A Message read back from Redis: already valid, so built without re-validating."""
    message: Any = _new(MessageSlots)
    message.id = message_id
    message.payload = payload
    message.priority = priority
    message.delay = 0.0
    message.attempts = attempts
    message.receipt = receipt
    message.state = state
    message.shard = shard
    message.due_at = due_at
    message.lease_expires_at = lease_expires_at
    message.__class__ = Message
    return message  # type: ignore[no-any-return]


_new = object.__new__


def check_id(message_id: object, index: int | None = None) -> str:
    if not isinstance(message_id, str):
        raise InvalidMessage(
            f"id must be a str, got {type(message_id).__name__}", field="id", index=index
        )
    if not message_id:
        raise InvalidMessage("id must not be empty", field="id", index=index)
    try:
        size = len(message_id.encode())
    except UnicodeEncodeError as exc:
        raise InvalidMessage(
            f"id is not valid UTF-8 text (a lone surrogate at {exc.start})", field="id", index=index
        ) from None
    if size > MAX_ID_BYTES:
        raise InvalidMessage(
            f"id is {size} bytes, at most {MAX_ID_BYTES} allowed", field="id", index=index
        )
    return message_id


def unsendable(value: object, max_depth: int = 256) -> tuple[str, str] | None:
    """What in ``value`` (nested lists, tuples and dicts) cannot be sent to Redis: a string that
    is not UTF-8 text (a lone surrogate, which JSON's ``\\ud800`` escapes can carry), or nesting
    deeper than ``max_depth``. Returns ``(path, problem)``, the path like ``input.a[2]`` (empty
    for ``value`` itself); None when all is fine."""
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not is_text(item):
                return path, "is not valid UTF-8 text (it holds a lone surrogate)"
        elif isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                return path, f"is nested deeper than {max_depth} levels"
            if isinstance(item, dict):
                for key, child in item.items():
                    label = key if isinstance(key, str) and is_text(key) else ascii(key)
                    where = f"{path}.{label}" if path else label
                    stack.append((key, where, depth + 1))
                    stack.append((child, where, depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
    return None


def is_digits(value: str) -> bool:
    """Whether ``value`` is one or more ASCII digits: ``str.isdigit`` also takes "²", which
    ``int`` refuses."""
    return value.isascii() and value.isdigit()


def is_text(value: str) -> bool:
    """Whether ``value`` encodes as UTF-8 (no lone surrogates)."""
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_seconds(
    value: object,
    name: str,
    error: type[InvalidMessage] | Any,
    *,
    maximum: float = MAX_DELAY_SECONDS,
) -> float:
    """A finite, non-negative number of seconds, or ``error`` naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(f"{name} must be a number of seconds, got {type(value).__name__}", field=name)
    if math.isnan(value) or math.isinf(value) or value < 0:
        raise error(f"{name} must be a finite number >= 0, got {value!r}", field=name)
    if value > maximum:
        raise error(f"{name} must be at most {maximum:g} seconds, got {value!r}", field=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class ShardStats:
    """Message counts of one shard. Delayed messages already due count as ready."""

    shard: int
    ready: int
    delayed: int
    in_flight: int
    dead: int
    oldest_ready_age: float = 0.0  # seconds the longest-waiting ready message has been due


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Message counts of a whole queue, and per shard."""

    ready: int
    delayed: int
    in_flight: int
    dead: int
    shards: list[ShardStats]
    oldest_ready_age: float = 0.0  # seconds, the oldest over every shard (0: nothing ready)
