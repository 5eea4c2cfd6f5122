"""The settings of one ``dynoq bench`` run, validated before anything touches Redis."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from dynoq.core.keys import check_name
from dynoq.core.models import MAX_DELAY_SECONDS, MAX_PRIORITY, is_digits
from dynoq.errors import ConfigError

MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What to run. ``url`` is already resolved (``embedded://`` replaced by the server's URL).
    ``rate`` None is closed loop (as fast as possible), else messages/s in total, open loop.
    ``priorities`` and ``delays`` are (value, share) pairs; delay shares may leave a remainder,
    which is not delayed."""

    url: str
    namespace: str
    queue: str
    producers: int = 1
    consumers: int = 1
    processes: int = 1
    shards: int = 1
    payload_bytes: int = 100
    priorities: tuple[tuple[int, float], ...] = ((0, 1.0),)
    delays: tuple[tuple[float, float], ...] = ()
    duration: float = 10.0
    batch: int = 1
    rate: float | None = None

    def __post_init__(self) -> None:
        check_name(self.queue, "queue name")
        check_name(self.namespace, "namespace")
        _check_count(self.producers, "--producers", 1)
        _check_count(self.consumers, "--consumers", 0)
        _check_count(self.processes, "--processes", 1)
        if self.processes > self.producers + self.consumers:
            raise ConfigError(
                f"--processes {self.processes} is more than the {self.producers + self.consumers} "
                "producers and consumers to share between them"
            )
        _check_count(self.shards, "--shards", 1)
        _check_count(self.payload_bytes, "--payload-bytes", 0, MAX_PAYLOAD_BYTES)
        _check_count(self.batch, "--batch", 1, MAX_BATCH)
        _check_seconds(self.duration, "--duration")
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise ConfigError(f"--rate must be a number of messages/s > 0, got {self.rate!r}")

    @property
    def open_loop(self) -> bool:
        return self.rate is not None


def _check_count(value: int, name: str, lo: int, hi: int = 100_000) -> None:
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be in {lo}..{hi}, got {value}")


def _check_seconds(value: float, name: str) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a number of seconds > 0, got {value!r}")


def _pairs(text: str, option: str, example: str) -> list[tuple[str, float]]:
    pairs = []
    for item in text.split(","):
        value, sep, share = item.strip().partition(":")
        try:
            number = float(share)
        except ValueError:
            number = math.nan
        if not sep or not value or not (math.isfinite(number) and number > 0):
            raise ConfigError(
                f"{option} {text!r}: {item.strip()!r} is not VALUE:SHARE with a share > 0 "
                f"(e.g. {example})"
            )
        pairs.append((value, number))
    return pairs


def parse_priorities(text: str) -> tuple[tuple[int, float], ...]:
    """``"0:0.9,9:0.1"``: priority:weight pairs, the weights scaled to sum to 1."""
    example = "0:0.9,9:0.1"
    pairs = _pairs(text, "--priorities", example)
    priorities = []
    for value, weight in pairs:
        if not is_digits(value) or int(value) > MAX_PRIORITY:
            raise ConfigError(
                f"--priorities {text!r}: priority {value!r} must be in 0..{MAX_PRIORITY} "
                f"(e.g. {example})"
            )
        priorities.append((int(value), weight))
    total = sum(weight for _, weight in priorities)
    return tuple((priority, weight / total) for priority, weight in priorities)


def parse_delay_mix(text: str) -> tuple[tuple[float, float], ...]:
    """``"5:0.1,60:0.01"``: 10% of messages delayed by 5 s, 1% by 60 s, the rest not delayed."""
    example = "5:0.1 (10% delayed by 5 s)"
    delays = []
    for value, share in _pairs(text, "--delay-mix", example):
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_DELAY_SECONDS):
            raise ConfigError(
                f"--delay-mix {text!r}: delay {value!r} must be a number of seconds >= 0 "
                f"(e.g. {example})"
            )
        delays.append((seconds, share))
    if sum(share for _, share in delays) > 1 + 1e-9:
        raise ConfigError(f"--delay-mix {text!r}: the shares add up to more than 1")
    return tuple(delays)


def add_arguments(bench: argparse.ArgumentParser) -> None:
    """The options of ``dynoq bench``."""
    counts = (
        ("--producers", 1, "producer tasks in total"),
        ("--consumers", 1, "consumer tasks in total"),
        ("--processes", 1, "processes sharing the producers and consumers"),
        ("--shards", 1, "shards of the queue"),
        ("--payload-bytes", 100, "encoded payload size"),
        ("--batch", 1, "messages per push, pop and ack"),
    )
    for flag, default, text in counts:
        bench.add_argument(flag, type=int, default=default, metavar="N", help=f"{text} ({default})")
    add = bench.add_argument
    add("--priorities", default="0:1", metavar="MIX", help="PRIORITY:WEIGHT,... e.g. 0:0.9,9:0.1")
    add("--delay-mix", metavar="MIX", help="SECONDS:SHARE,... e.g. 5:0.1 = 10%% delayed by 5 s")
    add("--duration", type=float, default=10.0, metavar="SECONDS", help="how long (10)")
    add("--rate", type=float, metavar="R", help="open loop at R messages/s in total "
        "(default: closed loop, as fast as possible)")  # fmt: skip
    add("--queue", metavar="NAME", help="queue name (default: a fresh bench-<random>)")
    add("--force", action="store_true",
        help="run even if the queue holds data; its messages are deleted at the end")  # fmt: skip
    add("--progress", action="store_true", help="progress line on stderr even if not a TTY")
    add("--json", metavar="PATH", help="write every figure, per second too, as JSON")
    add("--png", metavar="PATH", help="plot throughput and latency over time (matplotlib)")
