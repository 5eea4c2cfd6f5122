"""Which Redis ``maxmemory-policy`` values evict keys: an evicted key is a lost message or
workflow, so every service warns about them, the metrics flag them and ``dynoq doctor`` fails."""

from __future__ import annotations

EVICTS_ANY_KEY = frozenset({"allkeys-lru", "allkeys-lfu", "allkeys-random"})
EVICTS_KEYS_WITH_TTL = frozenset(
    {"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"}
)


def evicts(policy: str | None) -> bool:
    """True for a policy under which a full Redis deletes keys instead of refusing writes."""
    return policy in EVICTS_ANY_KEY or policy in EVICTS_KEYS_WITH_TTL
