"""``dynoq doctor``: checks what decides whether dynoq keeps its promises on a Redis.

Facts are read from Redis first (:func:`gather`), then judged by pure functions, so each
verdict is testable on its own. Every finding is ok / warning / error with a one-line fix; the
command exits non-zero when any finding is an error.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import redis

from dynoq.backend.acl import SERVICE_COMMANDS
from dynoq.backend.connect import SyncClient, sync_client
from dynoq.backend.queue import Queue
from dynoq.backend.registry import list_queues
from dynoq.core.eviction import EVICTS_ANY_KEY, EVICTS_KEYS_WITH_TTL
from dynoq.core.keys import CLUSTER_SLOTS, shard_keys
from dynoq.core.models import is_digits
from dynoq.core.urls import Topology, parse_redis_url
from dynoq.errors import DynoqError

Level = Literal["ok", "warning", "error"]
MIN_VERSION = (6, 2, 0)
SLOW_ROUND_TRIP_MS = 5.0
SKEW_WARNING_MS = 500.0
SKEW_ERROR_MS = 5000.0
MEMORY_WARNING_RATIO = 0.8


@dataclass(frozen=True)
class Finding:
    """One verdict: what was checked, how it stands, what was seen and how to fix it."""

    check: str
    level: Level
    detail: str
    fix: str = ""


@dataclass
class NodeFacts:
    """What one Redis server (a master, or the only server) said about itself."""

    address: str
    info: dict[str, Any]
    config: dict[str, str] = field(default_factory=dict)
    config_error: str = ""


# ---- verdicts (pure) ----------------------------------------------------------------------


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if is_digits(part))


def check_version(node: NodeFacts) -> Finding:
    version = str(node.info.get("redis_version", "?"))
    if _version(version) < MIN_VERSION:
        return Finding(
            "redis version",
            "error",
            f"{node.address}: Redis {version}; dynoq's scripts need 6.2 or newer (ZMSCORE)",
            "upgrade Redis to 7.x",
        )
    return Finding("redis version", "ok", f"{node.address}: Redis {version}")


def check_eviction(node: NodeFacts) -> list[Finding]:
    policy = str(node.config.get("maxmemory-policy") or node.info.get("maxmemory_policy", "?"))
    found: list[Finding] = []
    if policy in EVICTS_ANY_KEY:
        found.append(
            Finding(
                "maxmemory-policy",
                "error",
                f"{node.address}: {policy} evicts queue keys when memory is full: lost messages",
                "CONFIG SET maxmemory-policy noeviction (and in redis.conf)",
            )
        )
    elif policy in EVICTS_KEYS_WITH_TTL:
        found.append(
            Finding(
                "maxmemory-policy",
                "warning",
                f"{node.address}: {policy} can evict dynoq's leases and locks (keys with a TTL)",
                "CONFIG SET maxmemory-policy noeviction (and in redis.conf)",
            )
        )
    else:
        found.append(Finding("maxmemory-policy", "ok", f"{node.address}: {policy}"))
    maxmemory = int(node.info.get("maxmemory", 0) or 0)
    used = int(node.info.get("used_memory", 0) or 0)
    if maxmemory and used > MEMORY_WARNING_RATIO * maxmemory:
        found.append(
            Finding(
                "memory",
                "warning",
                f"{node.address}: {used / maxmemory:.0%} of maxmemory used; writes fail when full",
                "raise maxmemory, drain the backlog or add shards/masters",
            )
        )
    return found


def check_persistence(node: NodeFacts) -> Finding:
    aof = str(node.info.get("aof_enabled", "0")) == "1"
    fsync = node.config.get("appendfsync", "")
    rdb = bool(node.config.get("save", "").strip())
    if aof and fsync in ("always", "everysec"):
        lost = "nothing" if fsync == "always" else "about a second of writes"
        return Finding(
            "persistence", "ok", f"{node.address}: AOF, appendfsync {fsync} (a crash loses {lost})"
        )
    if aof:
        return Finding(
            "persistence",
            "warning",
            f"{node.address}: AOF with appendfsync {fsync or '?'}: the OS decides when to write",
            "CONFIG SET appendfsync everysec",
        )
    what = "RDB snapshots only: a crash loses minutes of messages" if rdb else "none"
    return Finding(
        "persistence",
        "warning",
        f"{node.address}: {what}",
        "CONFIG SET appendonly yes; CONFIG SET appendfsync everysec",
    )


def check_replication(node: NodeFacts, topology: Topology) -> Finding:
    role = str(node.info.get("role", "?"))
    replicas = int(node.info.get("connected_slaves", 0) or 0)
    if role != "master":
        return Finding(
            "replication",
            "error",
            f"{node.address} is a {role}: dynoq must write to a master",
            "point --redis-url at the master (or use redis+sentinel://)",
        )
    if replicas == 0:
        level: Level = "warning" if topology is not Topology.EMBEDDED else "ok"
        return Finding(
            "replication",
            level,
            f"{node.address}: no replica; losing this server loses its messages",
            "add a replica (and Sentinel or Cluster for failover)",
        )
    return Finding("replication", "ok", f"{node.address}: master with {replicas} replica(s)")


def check_round_trip(samples_ms: list[float]) -> Finding:
    median = statistics.median(samples_ms)
    detail = f"median {median:.2f} ms over {len(samples_ms)} PINGs"
    if median > SLOW_ROUND_TRIP_MS:
        return Finding(
            "round trip",
            "warning",
            detail + f" (> {SLOW_ROUND_TRIP_MS:g} ms: every pop and ack pays it)",
            "run dynoq next to Redis (same zone), or batch with pop(count=...) and ack_many",
        )
    return Finding("round trip", "ok", detail)


def check_clock(skew_ms: float) -> Finding:
    detail = f"client clock {skew_ms:+.0f} ms from the Redis server's"
    fix = "run NTP (chrony or systemd-timesyncd) on the clients and the Redis hosts"
    if abs(skew_ms) > SKEW_ERROR_MS:
        return Finding("clock skew", "error", detail + ": workflow timers drift by that", fix)
    if abs(skew_ms) > SKEW_WARNING_MS:
        return Finding("clock skew", "warning", detail + ": workflow timers drift by that", fix)
    return Finding("clock skew", "ok", detail + " (queues use the server's clock)")


def check_scripts(node: NodeFacts) -> Finding:
    scripts = int(node.info.get("number_of_cached_scripts", 0) or 0)
    memory = int(node.info.get("used_memory_scripts_eval", 0) or 0)
    detail = f"{node.address}: {scripts} cached scripts, {memory // 1024} KiB"
    if scripts > 1000:
        return Finding(
            "scripts cache",
            "warning",
            detail + ": something sends many distinct EVAL bodies",
            "find the client sending generated scripts; SCRIPT FLUSH is safe for dynoq",
        )
    return Finding("scripts cache", "ok", detail)


def check_cluster(info: dict[str, Any]) -> Finding:
    state = str(info.get("cluster_state", "?"))
    assigned = int(info.get("cluster_slots_assigned", 0) or 0)
    ok = int(info.get("cluster_slots_ok", 0) or 0)
    detail = f"state {state}, {ok}/{CLUSTER_SLOTS} slots ok ({assigned} assigned)"
    if state != "ok" or ok < CLUSTER_SLOTS:
        return Finding(
            "cluster", "error", detail, "redis-cli --cluster fix HOST:PORT, then check again"
        )
    return Finding("cluster", "ok", detail)


def check_balance(queue: str, shards_per_master: dict[str, int], shards: int) -> Finding:
    counts = sorted(shards_per_master.values())
    masters = len(shards_per_master)
    detail = f"queue {queue!r}: {shards} shards over {masters} masters " + str(
        dict(sorted(shards_per_master.items()))
    )
    if counts and counts[-1] - counts[0] > 1:
        return Finding(
            "shard balance",
            "warning",
            detail,
            "give the queue a multiple of the master count as shards, slots split evenly",
        )
    return Finding("shard balance", "ok", detail)


def check_permissions(user: str, denied: dict[str, list[str]], service: str | None) -> Finding:
    """``denied``: per service, the commands of its ACL (dynoq.backend.acl) this user lacks."""
    fix = "grant the ACL line docs/security.md gives for the service"
    if service is not None:
        missing = denied[service]
        if missing:
            detail = f"user {user!r} cannot run {service}: lacks {', '.join(missing)}"
            return Finding("acl", "error", detail, fix)
        return Finding("acl", "ok", f"user {user!r} may send every command {service} sends")
    fit = [name for name, missing in denied.items() if not missing]
    unfit = {name: missing for name, missing in denied.items() if missing}
    if not unfit:
        return Finding("acl", "ok", f"user {user!r} may run every dynoq service")
    detail = f"user {user!r} fits {', '.join(fit) or 'no service'}; not " + "; ".join(
        f"{name} (lacks {', '.join(missing)})" for name, missing in unfit.items()
    )
    return Finding("acl", "warning" if fit else "error", detail, fix + " (--service to check one)")


def check_queue(name: str, ready: int, delayed: int, in_flight: int, dead: int) -> Finding:
    detail = f"{name}: ready {ready}, delayed {delayed}, in flight {in_flight}, dead {dead}"
    if dead:
        return Finding(
            "queue",
            "warning",
            detail,
            f"look at them: dynoq dead ls {name}; replay: dynoq dead requeue {name}",
        )
    return Finding("queue", "ok", detail)


# ---- facts (I/O) --------------------------------------------------------------------------


def _node_facts(client: Any, address: str) -> NodeFacts:
    facts = NodeFacts(address, dict(client.info()))
    try:
        for name in ("maxmemory-policy", "appendfsync", "save"):
            facts.config.update({str(k): str(v) for k, v in client.config_get(name).items()})
    except redis.ResponseError as exc:  # CONFIG may be denied to a least-privilege user
        facts.config_error = str(exc)
    return facts


def _round_trips(client: Any, count: int = 10) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _skew_ms(client: Any) -> float:
    before = time.time()
    seconds, micros = client.time()
    after = time.time()
    server = float(seconds) + float(micros) / 1e6
    return ((before + after) / 2 - server) * 1000


def _probe(command: str, arity: int, namespace: str) -> list[str]:
    """Arguments that make ``ACL DRYRUN`` judge ``command`` on a key/channel of the namespace."""
    key = f"{namespace}:doctor-probe"
    if command in ("eval", "evalsha"):
        return [command, "return 1" if command == "eval" else "0" * 40, "1", key]
    return [command, *[key] * (arity - 1 if arity > 0 else -arity - 1)]


def _arities(client: Any, commands: Iterable[str]) -> dict[str, int]:
    reply = client.execute_command("COMMAND", "INFO", *commands)
    found: dict[str, int] = {}
    entries = reply.values() if isinstance(reply, dict) else reply
    for entry in entries:
        if isinstance(entry, dict):
            found[str(entry["name"])] = int(entry["arity"])
        elif entry:
            name = entry[0].decode() if isinstance(entry[0], bytes) else str(entry[0])
            found[name] = int(entry[1])
    return found


def _permissions(
    client: Any, namespace: str, acl_user: str | None
) -> tuple[str, dict[str, list[str]]] | Finding:
    try:
        whoami = acl_user or client.execute_command("ACL", "WHOAMI")
        user = whoami.decode() if isinstance(whoami, bytes) else str(whoami)
        everything = sorted({c for commands in SERVICE_COMMANDS.values() for c in commands})
        arities = _arities(client, everything)
    except redis.ResponseError as exc:
        return Finding(
            "acl",
            "warning",
            f"cannot ask who we are or what commands take ({exc})",
            "run dynoq doctor as an admin with --acl-user USER (see docs/security.md)",
        )
    allowed: dict[str, bool] = {}
    for command in everything:
        try:
            reply = client.execute_command(
                "ACL", "DRYRUN", user, *_probe(command, arities.get(command, -1), namespace)
            )
        except redis.ResponseError as exc:
            if "unknown subcommand" in str(exc).lower() or "NOPERM" in str(exc):
                return Finding(
                    "acl",
                    "warning",
                    f"cannot check permissions of {user!r} here ({exc})",
                    "run dynoq doctor as an admin with --acl-user USER (see docs/security.md)",
                )
            allowed[command] = False
            continue
        allowed[command] = reply in (b"OK", "OK")
    denied = {
        service: [c for c in commands if not allowed[c]]
        for service, commands in SERVICE_COMMANDS.items()
    }
    return user, denied


def _masters(client: SyncClient, topology: Topology) -> list[tuple[str, Any]]:
    if topology is Topology.CLUSTER:
        cluster: Any = client
        return [
            (f"{node.host}:{node.port}", cluster.get_redis_connection(node))
            for node in cluster.get_primaries()
        ]
    pool = client.connection_pool  # type: ignore[union-attr]
    kwargs = pool.connection_kwargs
    address = kwargs.get("path") or f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"
    return [(str(address), client)]


def _master_of(client: Any, key: str) -> str:
    node = client.get_node_from_key(key)
    return f"{node.host}:{node.port}"


def gather(
    url: str, namespace: str, service: str | None = None, acl_user: str | None = None
) -> list[Finding]:
    """Reads everything the checks need from the Redis at ``url`` and judges it."""
    topology = parse_redis_url(url).topology
    client = sync_client(url)
    found: list[Finding] = []
    try:
        found.extend(_gather(client, topology, namespace, service, acl_user))
    except Exception as exc:  # a diagnosis reports what it could not check, it never crashes
        found.append(Finding("check", "error", f"stopped: {exc}", "see the findings above"))
    finally:
        client.close()
    return found


def _gather(
    client: SyncClient,
    topology: Topology,
    namespace: str,
    service: str | None,
    acl_user: str | None,
) -> Iterable[Finding]:
    try:
        samples = _round_trips(client)
    except redis.RedisError as exc:
        yield Finding(
            "connect", "error", f"cannot reach Redis: {exc}", "check the URL, network and auth"
        )
        return
    yield Finding("connect", "ok", f"{topology.value} Redis answers")
    masters = _masters(client, topology)
    for address, node_client in masters:
        try:
            node = _node_facts(node_client, address)
        except redis.ResponseError as exc:  # a least-privilege user may not read INFO
            yield Finding(
                "redis info",
                "warning",
                f"{address}: INFO denied ({exc}); version, memory, persistence not checked",
                "run dynoq doctor as an admin, with --acl-user for the service's user",
            )
            continue
        yield check_version(node)
        if node.config_error:
            yield Finding(
                "config",
                "warning",
                f"{address}: CONFIG GET denied ({node.config_error}); judged from INFO only",
                "run dynoq doctor as a user allowed CONFIG GET for a full check",
            )
        yield from check_eviction(node)
        yield check_persistence(node)
        yield check_replication(node, topology)
        yield check_scripts(node)
    yield check_round_trip(samples)
    yield check_clock(_skew_ms(client))
    if topology is Topology.CLUSTER:
        info = client.cluster_info()  # type: ignore[union-attr]
        yield check_cluster(info if isinstance(info, dict) else {})
    permissions = _permissions(masters[0][1], namespace, acl_user)
    if isinstance(permissions, Finding):
        yield permissions
    else:
        yield check_permissions(*permissions, service)
    queues = list_queues(client, namespace)
    if not queues:
        yield Finding("queues", "ok", f"no queue registered in namespace {namespace!r}")
    for entry in queues:
        try:
            stats = Queue(client, entry.name, **entry.options()).stats()
        except DynoqError as exc:
            yield Finding("queue", "error", f"{entry.name}: cannot read its counts: {exc}", "")
            continue
        yield check_queue(entry.name, stats.ready, stats.delayed, stats.in_flight, stats.dead)
        if topology is Topology.CLUSTER:
            per_master = {address: 0 for address, _ in masters}
            for shard in range(entry.shards):
                ready = shard_keys(namespace, entry.name, shard, entry.shards).ready
                address = _master_of(client, ready)
                per_master[address] = per_master.get(address, 0) + 1
            yield check_balance(entry.name, per_master, entry.shards)


# ---- output -------------------------------------------------------------------------------


def render(findings: list[Finding]) -> str:
    width = max((len(f.check) for f in findings), default=5)
    lines = []
    for finding in findings:
        lines.append(f"{finding.level.upper():<8}{finding.check:<{width + 2}}{finding.detail}")
        if finding.fix and finding.level != "ok":
            lines.append(f"{'':<8}{'':<{width + 2}}fix: {finding.fix}")
    errors = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def run(
    url: str,
    namespace: str,
    as_json: bool,
    service: str | None = None,
    acl_user: str | None = None,
) -> int:
    """Prints the findings; 1 when any is an error, else 0."""
    try:
        findings = gather(url, namespace, service, acl_user)
    except (redis.RedisError, DynoqError) as exc:
        findings = [Finding("connect", "error", f"cannot check Redis: {exc}", "check the URL")]
    if as_json:
        print(json.dumps({"findings": [asdict(f) for f in findings]}, indent=2))
    else:
        print(render(findings))
    sys.stdout.flush()
    return 1 if any(f.level == "error" for f in findings) else 0
