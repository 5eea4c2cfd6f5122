"""Leases: a key that says who does a job for a while (``SET key owner NX PX``).

A lease is left to expire rather than released, so whoever takes it next does the job no sooner
than one lease after the last holder started it.
"""

from __future__ import annotations

from dynoq.backend.connect import AsyncClient
from dynoq.backend.runner import ensure_initialized, translated_errors


async def atake_lease(client: AsyncClient, key: str, owner: str, lease_ms: int) -> bool:
    """True when ``owner`` now holds the lease ``key`` for ``lease_ms``; False when another
    holder has it."""
    await ensure_initialized(client)
    with translated_errors():
        return bool(await client.set(key, owner, nx=True, px=lease_ms))
