"""A log-bucketed latency histogram: bounded memory, about 1% relative precision, mergeable,
so child processes can ship one per second to the parent."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

FLOOR_MS = 0.01  # latencies below this count as this
STEP = math.log(1.01)  # bucket i holds [FLOOR * 1.01^i, FLOOR * 1.01^(i+1))


@dataclass(slots=True)
class LatencyHistogram:
    """Counts of latencies in milliseconds, by bucket; the maximum is kept exactly."""

    buckets: dict[int, int] = field(default_factory=dict)
    count: int = 0
    max_ms: float = 0.0

    def record(self, latency_ms: float) -> None:
        index = int(math.log(latency_ms / FLOOR_MS) / STEP) if latency_ms > FLOOR_MS else 0
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1
        self.max_ms = max(self.max_ms, latency_ms)

    def merge(self, other: LatencyHistogram) -> None:
        for index, count in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + count
        self.count += other.count
        self.max_ms = max(self.max_ms, other.max_ms)

    def percentile(self, fraction: float) -> float | None:
        """The latency at or below which ``fraction`` of the samples lie (the middle of its
        bucket, never above the maximum); None without samples."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(FLOOR_MS * math.exp((index + 0.5) * STEP), self.max_ms)
        return self.max_ms

    def summary(self, fractions: tuple[float, ...] = (0.5, 0.9, 0.99)) -> dict[str, float | None]:
        """``{"p50": ..., "p90": ..., "p99": ..., "max": ..., "count": ...}`` in ms."""
        out: dict[str, float | None] = {
            f"p{round(q * 100):d}": self.percentile(q) for q in fractions
        }
        out["max"] = self.max_ms if self.count else None
        out["count"] = self.count
        return out
