"""Every queue operation, written once for both clients, without I/O ("sans-I/O").

An operation is a generator. It validates its arguments, then yields *steps* and receives their
results: a list of :class:`ScriptCall`/:class:`DeleteKeys` (run concurrently; the result is the
list of replies, in order), :class:`Tolerant` (the same, but a failed call's DynoqError is its
reply), :data:`LISTEN` (subscribe to wake-ups; the result is the current
wake-up epoch) or :class:`Wait` (block until the epoch moves past ``since`` or ``seconds`` pass;
the result is the epoch). Its return value is the operation's result. ``AsyncQueue`` and
``Queue`` only differ in how they run these steps.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import defaultdict
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from dynoq.core.clock import Clock
from dynoq.core.codec import (
    decode_payload,
    encode_payload,
    pack_strings,
    parse_record,
    popped_messages,
)
from dynoq.core.keys import shard_of
from dynoq.core.models import (
    Message,
    MessageState,
    QueueStats,
    ShardStats,
    check_id,
    check_seconds,
    is_text,
    stored_message,
)
from dynoq.core.spec import QueueSpec
from dynoq.errors import DynoqError, InvalidArgument, InvalidMessage

MOVE_LIMIT = 1000  # due/expired messages one push or pop moves to ready before its own work
BATCH_LIMIT = 1000  # messages per script call: bounds how long one call holds Redis
MAX_COUNT = 100_000
BROWSE_LIMIT = 10_000  # how deep browse pages reach into one state
MAX_WAIT_SECONDS = 24 * 3600.0
SHARD_RETRY_SECONDS = 1.0  # how long pop leaves a failed shard alone before trying it again

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ScriptCall:
    script: str
    keys: tuple[str, ...]
    args: tuple[str | int | bytes, ...]


@dataclass(frozen=True, slots=True)
class DeleteKeys:
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tolerant:
    """Calls whose failure (a DynoqError) is returned as their result instead of raised."""

    calls: list[ScriptCall | DeleteKeys]


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
    since: int


LISTEN = "listen"
Call = ScriptCall | DeleteKeys
# An operation's generator: the steps it yields, then its result T.
Steps = Generator[list[Call] | Tolerant | Wait | str, Any, T]


def check_count(count: object, name: str = "count") -> int:
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidArgument(f"{name} must be an int, got {type(count).__name__}", field=name)
    if not 1 <= count <= MAX_COUNT:
        raise InvalidArgument(f"{name} must be in 1..{MAX_COUNT}, got {count}", field=name)
    return count


def _rounded_up(value: float) -> int:
    """``value`` rounded up to a whole number, float noise aside (0.29 * 1000 is
    290.00000000000006, not 291)."""
    whole = round(value)
    return whole if abs(value - whole) <= 1e-9 * max(1.0, abs(value)) else math.ceil(value)


def to_ms(seconds: float) -> int:
    """Whole milliseconds, rounded up: a lease is never shorter than asked for."""
    return _rounded_up(seconds * 1000)


def to_us(seconds: float) -> int:
    """Whole microseconds, rounded up: the scripts make a delay due at the first millisecond
    of the Redis clock not before the moment asked for."""
    return _rounded_up(seconds * 1_000_000)


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _split(count: int, shards: list[int]) -> list[tuple[int, int]]:
    """``count`` spread over ``shards`` in order, at most BATCH_LIMIT each: [(shard, n > 0)].
    The parts never add up to more than ``count``."""
    per, extra = divmod(count, len(shards))
    parts = [(shard, min(per + (i < extra), BATCH_LIMIT)) for i, shard in enumerate(shards)]
    return [(shard, n) for shard, n in parts if n > 0]


class QueueOps:
    """The operations of one queue; its only mutable state is where pop starts next and which
    shards recently failed."""

    def __init__(self, spec: QueueSpec, clock: Clock | None = None) -> None:
        self.spec = spec
        self._clock = clock
        self._cursor = 0
        self._shard_retry_at: dict[int, float] = {}

    # -- helpers ---------------------------------------------------------------------------

    def _now(self) -> int | str:
        return self._clock.now_ms() if self._clock is not None else ""

    def _call(self, script: str, shard: int, *args: str | int | bytes) -> ScriptCall:
        return ScriptCall(script, self.spec.keys[shard].all, args)

    def _shard(self, message_id: str) -> int:
        return shard_of(message_id, self.spec.shards)

    def _on_one(self, script: str, message_id: str, *args: str | int | bytes) -> Steps[bool]:
        """One script call on the shard of ``message_id``; its 0/1 reply as a bool."""
        [reply] = yield [self._call(script, self._shard(message_id), *args)]
        return bool(reply)

    def _encode(self, messages: Message | Iterable[Message]) -> list[tuple[Message, bytes]]:
        if isinstance(messages, Message):
            batch: list[Any] = [messages]
        elif isinstance(messages, str | bytes | dict) or not isinstance(messages, Iterable):
            raise InvalidMessage(
                f"expected a Message or an iterable of Messages, got {type(messages).__name__}"
            )
        else:
            batch = list(messages)
        encoded = []
        for index, message in enumerate(batch):
            if not isinstance(message, Message):
                raise InvalidMessage(
                    f"expected a Message, got {type(message).__name__}", index=index
                )
            encoded.append(
                (message, encode_payload(message.payload, self.spec.max_payload_bytes, index))
            )
        return encoded

    def _message(
        self,
        shard: int,
        raw_id: bytes,
        record: bytes,
        state: MessageState,
        at_ms: int = -1,
        *,
        with_receipt: bool = False,
    ) -> Message:
        parsed = parse_record(record)
        at = at_ms / 1000 if at_ms >= 0 else None
        return stored_message(
            raw_id.decode("utf-8", "surrogatepass"),
            decode_payload(parsed.payload),
            parsed.priority,
            parsed.attempts,
            (parsed.receipt or None) if with_receipt else None,
            state,
            shard,
            parsed.due_ms / 1000,
            at if state is MessageState.IN_FLIGHT else None,
        )

    @staticmethod
    def _id_and_receipt(message: str | Message, receipt: str | None) -> tuple[str, str]:
        if isinstance(message, Message):
            message_id = message.id
            receipt = receipt if receipt is not None else message.receipt
        else:
            message_id = check_id(message)
        if receipt is not None and not (isinstance(receipt, str) and is_text(receipt)):
            raise InvalidArgument("receipt must be a str of UTF-8 text, or None", field="receipt")
        return message_id, receipt or ""

    # -- producing -------------------------------------------------------------------------

    def push(self, messages: Message | Iterable[Message]) -> Steps[list[str]]:
        encoded = self._encode(messages)
        by_shard: dict[int, list[tuple[Message, bytes]]] = defaultdict(list)
        for message, payload in encoded:
            by_shard[self._shard(message.id)].append((message, payload))
        chunked = {shard: _chunks(items, BATCH_LIMIT) for shard, items in by_shard.items()}
        rounds = max((len(c) for c in chunked.values()), default=0)
        # Chunks of one shard go in successive rounds, so push order holds within a shard.
        for round_no in range(rounds):
            calls: list[Call] = []
            for shard, chunks in chunked.items():
                if round_no < len(chunks):
                    args: list[str | int | bytes] = [self._now(), self.spec.channel, MOVE_LIMIT]
                    for message, payload in chunks[round_no]:
                        args += [message.id, message.priority, to_us(message.delay), payload]
                    calls.append(self._call("push", shard, *args))
            yield calls
        return [message.id for message, _ in encoded]

    def ensure(self, message: Message) -> Steps[bool]:
        if not isinstance(message, Message):
            raise InvalidMessage(f"expected a Message, got {type(message).__name__}")
        [(_, payload)] = self._encode(message)
        call = self._call(
            "ensure",
            self._shard(message.id),
            self._now(),
            self.spec.channel,
            MOVE_LIMIT,
            message.id,
            message.priority,
            to_us(message.delay),
            payload,
        )
        [pushed] = yield [call]
        return bool(pushed)

    # -- consuming -------------------------------------------------------------------------

    def pop(self, count: int = 1, wait: float = 0.0) -> Steps[list[Message]]:
        count = check_count(count)
        wait = check_seconds(wait, "wait", InvalidArgument, maximum=MAX_WAIT_SECONDS)
        deadline = time.monotonic() + wait
        epoch = (yield LISTEN) if wait > 0 else 0
        while True:
            got, wake_in_ms = yield from self._pop_round(count)
            if got or wait <= 0:
                return got
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            if wake_in_ms is not None:
                # Counted from the server's clock rounded down, so sleeping that long never
                # wakes before the due time; at least 1 ms, so "due now" does not spin.
                remaining = min(remaining, max(wake_in_ms, 1) / 1000)
            epoch = yield Wait(remaining, epoch)

    def _pop_round(self, count: int) -> Generator[Tolerant, Any, tuple[list[Message], int | None]]:
        """One pass over the shards, starting one further each call so none starves.

        The count is split over the shards that may still have messages, asked all at once
        (one round trip, however many shards); shards that gave all they were asked for are
        asked again for what is missing. The asks never add up to more than ``count``, so
        nothing is leased that is not returned. A shard that fails is skipped and left alone
        for a while, so one slow or failed node does not stall pops from the others; only
        when every shard fails does the error surface."""
        shards = self.spec.shards
        start = self._cursor
        self._cursor = (start + 1) % shards
        order = [(start + i) % shards for i in range(shards)]
        now = time.monotonic()
        pending = [s for s in order if self._shard_retry_at.get(s, 0.0) <= now] or order
        more: list[int] = []  # shards that gave all they were asked for: they may have more
        asked: set[int] = set()
        got: list[Message] = []
        wake_in_ms: int | None = None
        errors: list[DynoqError] = []
        while len(got) < count and (more or pending):
            asks = _split(count - len(got), more + pending)
            asked_now = {shard for shard, _ in asks}
            asked |= asked_now
            more = [s for s in more if s not in asked_now]
            pending = [s for s in pending if s not in asked_now]
            replies = yield Tolerant([self._pop_call(shard, n) for shard, n in asks])
            for (shard, n), reply in zip(asks, replies, strict=True):
                if isinstance(reply, DynoqError):
                    errors.append(reply)
                    self._shard_retry_at[shard] = time.monotonic() + SHARD_RETRY_SECONDS
                    continue
                self._shard_retry_at.pop(shard, None)
                now_ms, next_wake_ms, *flat = reply
                got += popped_messages(shard, flat, now_ms + self.spec.unack_timeout_ms)
                if next_wake_ms >= 0:
                    wake = next_wake_ms - now_ms
                    wake_in_ms = wake if wake_in_ms is None else min(wake_in_ms, wake)
                if len(flat) // 2 == n:
                    more.append(shard)
        if errors and not got:
            if len(errors) >= len(asked):
                raise errors[0]
            retry_in_ms = round(SHARD_RETRY_SECONDS * 1000)
            wake_in_ms = retry_in_ms if wake_in_ms is None else min(wake_in_ms, retry_in_ms)
        return got, wake_in_ms

    def _pop_call(self, shard: int, count: int) -> ScriptCall:
        return self._call(
            "pop",
            shard,
            self._now(),
            count,
            self.spec.unack_timeout_ms,
            self.spec.max_deliveries,
            secrets.token_hex(8) + "-",
            MOVE_LIMIT,
        )

    def ack(self, message: str | Message, receipt: str | None = None) -> Steps[bool]:
        message_id, receipt_arg = self._id_and_receipt(message, receipt)
        return (yield from self._on_one("ack", message_id, pack_strings([message_id, receipt_arg])))

    def ack_many(self, messages: Iterable[str | Message]) -> Steps[int]:
        if isinstance(messages, str | bytes | Message) or not isinstance(messages, Iterable):
            raise InvalidArgument("ack_many takes an iterable of ids or Messages", field="messages")
        shards = self.spec.shards
        by_shard: dict[int, list[str]] = {}
        for message in messages:
            if (
                isinstance(message, Message)
                and type(receipt := message.receipt) is str
                and receipt.isascii()
                and type(shard := message.shard) is int
                and 0 <= shard < shards
            ):
                # What pop returns (the hot path): its id and receipt are text and its shard is
                # known. Were the shard from another queue, so is the receipt: it matches no
                # record on any shard, and the ack misses as it would on the id's own shard.
                message_id = message.id
            else:
                message_id, receipt = self._id_and_receipt(message, None)
                shard = self._shard(message_id)
            args = by_shard.get(shard)
            if args is None:
                args = by_shard[shard] = []
            args += (message_id, receipt)
        calls: list[Call] = [
            self._call("ack", shard, pack_strings(chunk[0::2] + chunk[1::2]))
            for shard, args in by_shard.items()
            for chunk in _chunks(args, 2 * BATCH_LIMIT)
        ]
        replies = yield calls
        return sum(replies)

    def nack(
        self, message: str | Message, delay: float = 0.0, receipt: str | None = None
    ) -> Steps[bool]:
        message_id, receipt_arg = self._id_and_receipt(message, receipt)
        delay_us = to_us(check_seconds(delay, "delay", InvalidArgument))
        return (
            yield from self._on_one(
                "nack",
                message_id,
                self._now(),
                self.spec.channel,
                MOVE_LIMIT,
                message_id,
                delay_us,
                receipt_arg,
                self.spec.max_deliveries,
            )
        )

    def set_unack_timeout(self, message: str | Message, timeout: float) -> Steps[bool]:
        message_id, _ = self._id_and_receipt(message, None)
        lease_ms = to_ms(check_seconds(timeout, "timeout", InvalidArgument))
        return (
            yield from self._on_one(
                "set_unack_timeout", message_id, self._now(), message_id, lease_ms
            )
        )

    def set_delay(self, message: str | Message, delay: float) -> Steps[bool]:
        message_id, _ = self._id_and_receipt(message, None)
        delay_us = to_us(check_seconds(delay, "delay", InvalidArgument))
        return (
            yield from self._on_one(
                "set_delay",
                message_id,
                self._now(),
                self.spec.channel,
                MOVE_LIMIT,
                message_id,
                delay_us,
            )
        )

    def remove(self, message: str | Message) -> Steps[bool]:
        message_id, _ = self._id_and_receipt(message, None)
        return (yield from self._on_one("remove", message_id, message_id))

    # -- looking ---------------------------------------------------------------------------

    def get(self, message_id: str) -> Steps[Message | None]:
        check_id(message_id)
        shard = self._shard(message_id)
        [reply] = yield [self._call("get", shard, self._now(), message_id)]
        if reply is None:
            return None
        state, at_ms, record = reply
        return self._message(
            shard, message_id.encode(), record, MessageState(state.decode()), at_ms
        )

    def contains(self, message_id: str) -> Steps[bool]:
        return (yield from self.get(message_id)) is not None

    def peek(self, count: int = 1) -> Steps[list[Message]]:
        count = min(check_count(count), BATCH_LIMIT * 10)
        calls: list[Call] = [
            self._call("peek", shard, self._now(), count, self.spec.max_deliveries, MOVE_LIMIT)
            for shard in range(self.spec.shards)
        ]
        replies = yield calls
        ranked = []
        for shard, flat in enumerate(replies):
            for rank, i in enumerate(range(0, len(flat), 2)):
                message = self._message(shard, flat[i], flat[i + 1], MessageState.READY)
                ranked.append(
                    ((message.priority, rank, (shard - self._cursor) % self.spec.shards), message)
                )
        ranked.sort(key=lambda item: item[0])
        return [message for _, message in ranked[:count]]

    def stats(self) -> Steps[QueueStats]:
        replies = yield [
            self._call("stats", shard, self._now()) for shard in range(self.spec.shards)
        ]
        shards = [
            ShardStats(shard, ready, delayed, in_flight, dead, int(oldest_ms) / 1000)
            for shard, (ready, delayed, in_flight, dead, oldest_ms) in enumerate(replies)
        ]
        return QueueStats(
            ready=sum(s.ready for s in shards),
            delayed=sum(s.delayed for s in shards),
            in_flight=sum(s.in_flight for s in shards),
            dead=sum(s.dead for s in shards),
            shards=shards,
            oldest_ready_age=max(s.oldest_ready_age for s in shards),
        )

    def size(self) -> Steps[int]:
        stats = yield from self.stats()
        return stats.ready + stats.delayed

    # -- upkeep ----------------------------------------------------------------------------

    def _sweep_call(self, shard: int) -> ScriptCall:
        """One batch of a shard's expired leases handed back (or dead-lettered)."""
        return self._call(
            "sweep", shard, self._now(), self.spec.channel, BATCH_LIMIT, self.spec.max_deliveries
        )

    def sweep(self) -> Steps[int]:
        total = 0
        pending = list(range(self.spec.shards))
        while pending:
            calls: list[Call] = [self._sweep_call(shard) for shard in pending]
            replies = yield calls
            total += sum(requeued + dead for requeued, dead, _ in replies)
            pending = [shard for shard, (_, _, more) in zip(pending, replies, strict=True) if more]
        return total

    def sweep_shard(self, shard: int, max_rounds: int) -> Steps[tuple[int, int]]:
        """One shard's expired leases handed back, at most ``max_rounds`` batches of
        BATCH_LIMIT: (requeued, dead-lettered)."""
        if isinstance(shard, bool) or not isinstance(shard, int):
            raise InvalidArgument(
                f"shard must be an int, got {type(shard).__name__}", field="shard"
            )
        if not 0 <= shard < self.spec.shards:
            raise InvalidArgument(
                f"shard must be in 0..{self.spec.shards - 1}, got {shard}", field="shard"
            )
        max_rounds = check_count(max_rounds, "max_rounds")
        requeued = dead = 0
        for _ in range(max_rounds):
            [(back, died, more)] = yield [self._sweep_call(shard)]
            requeued, dead = requeued + back, dead + died
            if not more:
                break
        return requeued, dead

    def dead_letters(self, count: int = 100) -> Steps[list[Message]]:
        count = min(check_count(count), BATCH_LIMIT * 10)
        replies = yield [
            self._call("dead_letters", shard, count) for shard in range(self.spec.shards)
        ]
        found = []
        for shard, flat in enumerate(replies):
            for i in range(0, len(flat), 3):
                message = self._message(shard, flat[i], flat[i + 2], MessageState.DEAD)
                found.append((flat[i + 1], message))
        found.sort(key=lambda item: item[0])
        return [message for _, message in found[:count]]

    def browse(
        self, state: MessageState | str, offset: int = 0, count: int = 50
    ) -> Steps[list[Message]]:
        """A page of the messages in one state, in that state's order across shards (ready: pop
        order per priority; delayed: due time; in flight: lease end; dead: oldest first)."""
        try:
            state = MessageState(state)
        except ValueError:
            raise InvalidArgument(
                f"state must be one of {[s.value for s in MessageState]}", field="state"
            ) from None
        count = min(check_count(count), BROWSE_LIMIT)
        if (
            isinstance(offset, bool)
            or not isinstance(offset, int)
            or not 0 <= offset <= BROWSE_LIMIT
        ):
            raise InvalidArgument(f"offset must be an int in 0..{BROWSE_LIMIT}", field="offset")
        single = self.spec.shards == 1
        replies = yield [
            self._call(
                "browse",
                shard,
                state.value,
                offset if single else 0,
                count if single else offset + count,
            )
            for shard in range(self.spec.shards)
        ]
        found = []
        for shard, flat in enumerate(replies):
            for i in range(0, len(flat), 3):
                score = int(flat[i + 1])
                at_ms = score // 128 if state is MessageState.IN_FLIGHT else -1
                found.append(
                    (score, shard, self._message(shard, flat[i], flat[i + 2], state, at_ms))
                )
        found.sort(key=lambda item: item[:2])
        page = found if single else found[offset : offset + count]
        return [message for _, _, message in page]

    def requeue_dead(self, ids: Iterable[str] | None = None) -> Steps[int]:
        head = (self._now(), self.spec.channel, BATCH_LIMIT)
        if ids is not None:
            if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
                raise InvalidArgument("ids must be an iterable of message ids", field="ids")
            by_shard: dict[int, list[str]] = defaultdict(list)
            for message_id in ids:
                by_shard[self._shard(check_id(message_id))].append(message_id)
            replies = yield [
                self._call("requeue_dead", shard, *head, *chunk)
                for shard, shard_ids in by_shard.items()
                for chunk in _chunks(shard_ids, BATCH_LIMIT)
            ]
            return sum(replies)
        total = 0
        pending = list(range(self.spec.shards))
        while pending:
            replies = yield [self._call("requeue_dead", shard, *head) for shard in pending]
            total += sum(replies)
            pending = [s for s, n in zip(pending, replies, strict=True) if n == BATCH_LIMIT]
        return total

    def clear(self) -> Steps[None]:
        yield [DeleteKeys(keys.all) for keys in self.spec.keys]
