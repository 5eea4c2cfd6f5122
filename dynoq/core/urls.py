"""Parsing the Redis URLs dynoq understands, into a description of where Redis is.

* ``redis://[user:pass@]host[:port][/db]``, ``rediss://...`` (TLS, certificate checked by default),
  ``unix:///path/to/redis.sock[?db=N]``: one server.
* ``redis+cluster://[user:pass@]host:port[,host:port...]`` (``rediss+cluster://`` for TLS): seed
  nodes of a Redis Cluster; the topology is discovered from them.
* ``redis+sentinel://[user:pass@]host:port[,host:port...]/service_name[/db]``
  (``rediss+sentinel://`` for TLS): Sentinels and the name of the master they watch.
* ``embedded://``: a private redis-server started on first use.

Query parameters (``?socket_timeout=2``) are passed to redis-py as client options.
A bad URL is a one-line :class:`ConfigError` naming the part that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl, unquote, urlsplit

from dynoq.core.models import is_digits
from dynoq.errors import ConfigError


class Topology(StrEnum):
    STANDALONE = "standalone"
    CLUSTER = "cluster"
    SENTINEL = "sentinel"
    EMBEDDED = "embedded"


SCHEMES = {
    "redis": Topology.STANDALONE,
    "rediss": Topology.STANDALONE,
    "unix": Topology.STANDALONE,
    "redis+cluster": Topology.CLUSTER,
    "rediss+cluster": Topology.CLUSTER,
    "redis+sentinel": Topology.SENTINEL,
    "rediss+sentinel": Topology.SENTINEL,
    "embedded": Topology.EMBEDDED,
}


@dataclass(frozen=True)
class RedisTarget:
    """Where Redis is. ``url`` is set for standalone servers (redis-py parses it)."""

    topology: Topology
    url: str = ""
    nodes: tuple[tuple[str, int], ...] = ()
    service_name: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    options: dict[str, str] = field(default_factory=dict)


def redact_url(url: str) -> str:
    """The URL with its password, if any, replaced by ``***``: safe to print or log."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def parse_redis_url(url: object) -> RedisTarget:
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"Redis URL must look like redis://host:port/db, got {url!r}")
    scheme = url.split("://", 1)[0].lower()
    topology = SCHEMES.get(scheme)
    if topology is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise ConfigError(f"Redis URL scheme {scheme!r} is not supported; use one of: {known}")
    if topology in (Topology.STANDALONE, Topology.EMBEDDED):
        return RedisTarget(topology, url=url)
    return _parse_multi_node(url, scheme, topology)


def _parse_multi_node(url: str, scheme: str, topology: Topology) -> RedisTarget:
    rest = url.split("://", 1)[1]
    rest, _, query = rest.partition("?")
    netloc, _, path = rest.partition("/")
    username = password = None
    if "@" in netloc:
        credentials, netloc = netloc.rsplit("@", 1)
        user, sep, secret = credentials.partition(":")
        username, password = (unquote(user) or None), (unquote(secret) if sep else None)
    nodes = tuple(_parse_node(node, url) for node in netloc.split(","))
    segments = [s for s in path.split("/") if s]
    service_name, db = "", 0
    if topology is Topology.SENTINEL:
        if not segments:
            raise ConfigError(f"Redis URL {redact_url(url)!r} names no service: add /service_name")
        service_name = unquote(segments.pop(0))
    if segments:
        db = _parse_db(segments.pop(0), url)
    if segments:
        extra = segments[0]
        raise ConfigError(f"Redis URL {redact_url(url)!r} has an unexpected path part {extra!r}")
    if topology is Topology.CLUSTER and db != 0:
        raise ConfigError(f"Redis URL {redact_url(url)!r}: a Redis Cluster has only database 0")
    return RedisTarget(
        topology,
        nodes=nodes,
        service_name=service_name,
        db=db,
        username=username,
        password=password,
        tls=scheme.startswith("rediss"),
        options=dict(parse_qsl(query)),
    )


def _parse_node(node: str, url: str) -> tuple[str, int]:
    host, sep, port = node.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"Redis URL {redact_url(url)!r}: node {node!r} must be host:port")
    if not is_digits(port) or not 0 < int(port) < 65536:
        raise ConfigError(f"Redis URL {redact_url(url)!r}: node {node!r} has a bad port {port!r}")
    return host.strip("[]"), int(port)


def _parse_db(text: str, url: str) -> int:
    if not is_digits(text):
        raise ConfigError(f"Redis URL {redact_url(url)!r}: database {text!r} must be a number")
    return int(text)
