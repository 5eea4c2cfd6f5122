"""A local Redis Cluster of real redis-server processes, for tests."""

from __future__ import annotations

import socket
import subprocess
import time

import redis

from dynoq.backend.embedded import RedisServer, free_port
from dynoq.core.keys import CLUSTER_SLOTS
from dynoq.errors import EmbeddedRedisError

CLUSTER_BUS_OFFSET = 10000


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    for _ in range(100):
        port = free_port()
        if port + CLUSTER_BUS_OFFSET < 65536 and _port_is_free(port + CLUSTER_BUS_OFFSET):
            return port
    raise EmbeddedRedisError("no free port pair for a cluster node")


class LocalRedisCluster:
    """``masters`` masters with ``replicas`` replicas each, on loopback ports, made with
    ``redis-cli --cluster create``. ``node_timeout_ms`` is how fast a dead master is replaced."""

    def __init__(
        self,
        masters: int = 3,
        replicas: int = 1,
        node_timeout_ms: int = 1000,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.extra_args = extra_args
        self.masters = masters
        self.replicas = replicas
        self.node_timeout_ms = node_timeout_ms
        self.servers: list[RedisServer] = []

    @property
    def url(self) -> str:
        nodes = ",".join(f"127.0.0.1:{s.port}" for s in self.servers[:3])
        return f"redis+cluster://{nodes}"

    def start(self) -> LocalRedisCluster:
        args = (
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", str(self.node_timeout_ms), "--appendonly", "no",
            "--repl-diskless-sync-delay", "0", *self.extra_args,
        )  # fmt: skip
        try:
            for _ in range(self.masters * (1 + self.replicas)):
                self.servers.append(RedisServer(port=_cluster_port(), extra_args=args).start())
            if self.masters >= 3:
                addresses = [f"127.0.0.1:{s.port}" for s in self.servers]
                subprocess.run(
                    ["redis-cli", "--cluster", "create", *addresses,
                     "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                    check=True, capture_output=True, timeout=60,
                )  # fmt: skip
            else:
                self._create_small()
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _create_small(self) -> None:
        """redis-cli refuses fewer than 3 masters; 1 or 2 (no replicas) are made by hand."""
        if self.replicas:
            raise EmbeddedRedisError("a local cluster of fewer than 3 masters has no replicas")
        first = self.servers[0]
        per_master = CLUSTER_SLOTS // self.masters
        for i, server in enumerate(self.servers):
            last = CLUSTER_SLOTS - 1 if i == self.masters - 1 else (i + 1) * per_master - 1
            with self.node_client(server) as client:
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * per_master, last)
                if server is not first:
                    client.execute_command("CLUSTER", "MEET", "127.0.0.1", first.port)

    def node_client(self, server: RedisServer) -> redis.Redis:
        assert server.port is not None
        return redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=5)

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Until every live node reports cluster_state:ok, knows a master for every slot and,
        for replicas, is in sync with its master (so it can take over)."""
        deadline = time.monotonic() + timeout
        live = [s for s in self.servers if s.is_running()]
        while True:
            try:
                if all(self._node_ok(s) for s in live):
                    return
            except redis.exceptions.RedisError:
                pass
            if time.monotonic() > deadline:
                raise EmbeddedRedisError("the local Redis Cluster did not become healthy")
            time.sleep(0.05)

    def _node_ok(self, server: RedisServer) -> bool:
        """The node sees the whole cluster up and, if it is a replica, has synced its master."""
        with self.node_client(server) as client:
            info = client.cluster("INFO")
            if info["cluster_state"] != "ok" or int(info["cluster_slots_ok"]) != 16384:
                return False
            replication = client.info("replication")
            return bool(
                replication["role"] == "master" or replication.get("master_link_status") == "up"
            )

    def master_servers(self) -> list[RedisServer]:
        """The servers that are masters now."""
        masters = []
        for server in self.servers:
            if not server.is_running():
                continue
            with self.node_client(server) as client:
                if client.info("replication")["role"] == "master":
                    masters.append(server)
        return masters

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers = []

    def __enter__(self) -> LocalRedisCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
