"""Key naming and sharding: which shard holds a message, and the keys of each shard.

Every key of one shard shares one hash tag, so a script touching them runs on one Redis Cluster
node. The tag is not the queue name: it is a short string chosen so that the shard lands on a
chosen hash slot. Shard ``i`` of ``n`` sits at slot ``(i + u) * 16384 / n`` with ``u`` in
[0.05, 0.95) derived from the queue name, so the shards of a queue are evenly spread over the
slot space, and therefore evenly over the masters of a cluster whose slots are split evenly
(what ``redis-cli --cluster create`` does), instead of being left to the luck of CRC16.
"""

from __future__ import annotations

import binascii
import functools
import re
import zlib
from dataclasses import dataclass

from dynoq.errors import ConfigError

CLUSTER_SLOTS = 16384
NAME_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def check_name(value: object, what: str) -> str:
    """A queue name or namespace: 1..200 of ``[A-Za-z0-9._:-]``."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise ConfigError(f"{what} must match [A-Za-z0-9._:-]{{1,200}}, got {value!r}")
    return value


def key_slot(tag: str) -> int:
    """The Redis Cluster hash slot of a hash tag (CRC16/XMODEM mod 16384)."""
    return binascii.crc_hqx(tag.encode(), 0) % CLUSTER_SLOTS


@functools.cache
def slot_tag(slot: int) -> str:
    """The smallest decimal string whose keys land on ``slot`` (about 16k CRCs per slot)."""
    n = 0
    while key_slot(str(n)) != slot:
        n += 1
    return str(n)


def shard_slot(namespace: str, queue: str, shard: int, shards: int) -> int:
    offset = 0.05 + 0.9 * (zlib.crc32(f"{namespace}:{queue}".encode()) % 1000) / 1000
    return int((shard + offset) * CLUSTER_SLOTS / shards)


def shard_of(message_id: str, shards: int) -> int:
    """The shard holding a message id: CRC32 of its UTF-8 bytes mod the shard count."""
    if shards == 1:
        return 0
    return zlib.crc32(message_id.encode("utf-8", "surrogatepass")) % shards


@dataclass(frozen=True, slots=True)
class ShardKeys:
    """The six keys of one shard, in the order every script takes them (see lua/lib/keys.lua)."""

    ready: str
    delayed: str
    in_flight: str
    dead: str
    messages: str
    seq: str

    @property
    def all(self) -> tuple[str, str, str, str, str, str]:
        return (self.ready, self.delayed, self.in_flight, self.dead, self.messages, self.seq)


def shard_keys(namespace: str, queue: str, shard: int, shards: int) -> ShardKeys:
    tag = slot_tag(shard_slot(namespace, queue, shard, shards))
    prefix = f"{namespace}:{queue}:{shard}:{{{tag}}}"
    return ShardKeys(
        ready=f"{prefix}:ready",
        delayed=f"{prefix}:delayed",
        in_flight=f"{prefix}:in_flight",
        dead=f"{prefix}:dead",
        messages=f"{prefix}:messages",
        seq=f"{prefix}:seq",
    )


def wake_channel(namespace: str, queue: str) -> str:
    """The pub/sub channel on which state changes wake consumers waiting in pop."""
    return f"{namespace}:{queue}:wake"
