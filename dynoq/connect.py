"""Turning a Redis URL into a client. Understood: ``redis://``, ``rediss://``, ``unix://`` and
``embedded://`` (a private redis-server started on first use)."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis
import redis.asyncio

from dynoq.embedded import shared_server
from dynoq.errors import ConfigError

SCHEMES = ("redis", "rediss", "unix", "embedded")


def resolve_url(url: str) -> str:
    """Checks the URL and replaces ``embedded://`` by the embedded server's own URL."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"Redis URL must look like redis://host:port/db, got {url!r}")
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigError(
            f"Redis URL scheme {scheme!r} is not supported; use one of: "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    if scheme == "embedded":
        return shared_server().url
    return url


def sync_client(url: str) -> redis.Redis:
    resolved = resolve_url(url)
    try:
        return redis.Redis.from_url(resolved, decode_responses=False)
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {url!r}: {exc}") from exc


def async_client(url: str) -> redis.asyncio.Redis:
    resolved = resolve_url(url)
    try:
        return redis.asyncio.Redis.from_url(resolved, decode_responses=False)
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {url!r}: {exc}") from exc
