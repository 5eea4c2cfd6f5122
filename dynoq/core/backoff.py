"""How long a worker waits before a failed message is tried again."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

from dynoq.errors import InvalidArgument


class Backoff(Protocol):
    """The delay in seconds before the next try, after ``attempts`` deliveries (1 = the first
    try failed)."""

    def delay(self, attempts: int) -> float: ...


def _check(value: float, name: str, minimum: float = 0.0) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidArgument(f"{name} must be a finite number, got {value!r}", field=name)
    if value < minimum:
        raise InvalidArgument(f"{name} must be >= {minimum:g}, got {value!r}", field=name)


@dataclass(frozen=True, slots=True)
class Exponential:
    """``base * factor ** (attempts - 1)`` seconds, at most ``cap``. With ``jitter``, a random
    delay between 0 and that ("full jitter"), so retries of many messages spread out."""

    base: float = 1.0
    cap: float = 300.0
    factor: float = 2.0
    jitter: bool = False

    def __post_init__(self) -> None:
        _check(self.base, "base")
        _check(self.cap, "cap")
        _check(self.factor, "factor", 1.0)

    def delay(self, attempts: int) -> float:
        try:
            seconds = min(float(self.cap), self.base * self.factor ** max(0, attempts - 1))
        except OverflowError:
            seconds = float(self.cap)
        return random.uniform(0, seconds) if self.jitter else seconds


@dataclass(frozen=True, slots=True)
class Constant:
    """The same delay after every failure."""

    seconds: float = 1.0

    def __post_init__(self) -> None:
        _check(self.seconds, "seconds")

    def delay(self, attempts: int) -> float:
        return self.seconds
