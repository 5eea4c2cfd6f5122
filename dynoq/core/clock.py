"""Where queue scripts get "now" from.

By default every script reads the Redis server's clock (``TIME``), so producers and consumers
with skewed clocks agree on due times and leases. A :class:`Clock` overrides that, for tests.
"""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """A source of the current time in integer milliseconds since the Unix epoch."""

    def now_ms(self) -> int: ...
