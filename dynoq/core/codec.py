"""Payload encoding (msgpack) and the stored message record."""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

import msgpack

from dynoq.core.models import Message, MessageSlots, MessageState
from dynoq.errors import InvalidMessage, PayloadTooLarge


def encode_payload(payload: Any, max_bytes: int, index: int | None = None) -> bytes:
    try:
        data: bytes = msgpack.packb(payload, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidMessage(
            f"payload is not msgpack-serialisable: {exc}", field="payload", index=index
        ) from exc
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"payload is {len(data)} bytes encoded, at most {max_bytes} allowed",
            field="payload",
            index=index,
        )
    return data


def decode_payload(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


def pack_strings(strings: list[str]) -> bytes:
    """Many strings as one script argument, a msgpack array that the script reads with
    ``cmsgpack.unpack``: redis-py packs each argument of a command at a cost (an isinstance
    test, then hiredis) above what ack.lua spends per message."""
    data: bytes = msgpack.packb(strings)
    return data


DELIVERED = 128  # added to the priority byte once a message was delivered
_HEAD = struct.Struct(">BHI")  # priority (+ DELIVERED), due_ms as 16 + 32 bits
_DELIVERY = struct.Struct(">IB")  # attempts, receipt length
_DELIVERED = struct.Struct(">BHIIB")  # both at once, for a delivered record


class Record(NamedTuple):
    """A stored message (see ``lua/lib/keys.lua``): a binary header, then the payload.

    Header: priority (+ 128 once delivered) in one byte, due_ms in 48 bits big-endian; once
    delivered, attempts in 32 bits and the receipt prefixed by its length in one byte."""

    priority: int
    attempts: int
    receipt: str
    due_ms: int
    payload: bytes


def split_record(record: bytes) -> tuple[int, int, str, int, bytes]:
    """``parse_record`` as a plain tuple (the pop hot path: no NamedTuple to build)."""
    priority, high, low = _HEAD.unpack_from(record)
    if priority < DELIVERED:
        return priority, 0, "", high << 32 | low, record[7:]
    attempts, size = _DELIVERY.unpack_from(record, 7)
    end = 12 + size
    return priority - DELIVERED, attempts, record[12:end].decode(), high << 32 | low, record[end:]


def popped_messages(shard: int, flat: list[bytes], lease_until_ms: int) -> list[Message]:
    """The in-flight messages of a pop reply's ``id, record, ...`` list: ``split_record``,
    ``decode_payload`` and ``models.stored_message`` inlined, as this is the pop hot path."""
    lease_until = lease_until_ms / 1000
    in_flight = MessageState.IN_FLIGHT
    delivered, unpackb, new = _DELIVERED.unpack_from, msgpack.unpackb, object.__new__
    slots, message_class = MessageSlots, Message
    messages: list[Any] = []
    append = messages.append
    for i in range(0, len(flat), 2):
        record = flat[i + 1]
        message: Any = new(slots)
        if record[0] >= DELIVERED:  # always, from pop.lua
            priority, high, low, message.attempts, size = delivered(record)
            message.priority = priority - DELIVERED
            end = 12 + size
            message.receipt = record[12:end].decode() or None
        else:
            message.priority, high, low = _HEAD.unpack_from(record)
            message.attempts, message.receipt, end = 0, None, 7
        message.id = flat[i].decode("utf-8", "surrogatepass")
        message.payload = unpackb(record[end:], raw=False, strict_map_key=False)
        message.delay = 0.0
        message.state = in_flight
        message.shard = shard
        message.due_at = (high << 32 | low) / 1000
        message.lease_expires_at = lease_until
        message.__class__ = message_class
        append(message)
    return messages


def parse_record(record: bytes) -> Record:
    return Record(*split_record(record))


def pack_record(record: Record) -> bytes:
    """The stored form of ``record``, as the scripts write it (for tests and tools)."""
    priority, attempts, receipt, due_ms, payload = record
    head = _HEAD.pack(priority, due_ms >> 32, due_ms & 0xFFFFFFFF)
    if attempts == 0 and not receipt:
        return head + payload
    data = receipt.encode()
    head = _HEAD.pack(priority + DELIVERED, due_ms >> 32, due_ms & 0xFFFFFFFF)
    return head + _DELIVERY.pack(attempts, len(data)) + data + payload
