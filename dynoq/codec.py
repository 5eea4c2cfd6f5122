"""Payload encoding (msgpack) and the stored message record."""

from __future__ import annotations

from typing import Any, NamedTuple

import msgpack

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


class Record(NamedTuple):
    """A stored message: ``<priority>|<attempts>|<receipt>|<due_ms>|<payload>``."""

    priority: int
    attempts: int
    receipt: str
    due_ms: int
    payload: bytes


def parse_record(record: bytes) -> Record:
    priority, attempts, receipt, due_ms, payload = record.split(b"|", 4)
    return Record(int(priority), int(attempts), receipt.decode(), int(due_ms), payload)
