"""A local Sentinel setup of real processes: a master, its replicas, and sentinels."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import redis

from dynoq.backend.embedded import RedisServer, find_redis_server, free_port
from dynoq.errors import EmbeddedRedisError


class LocalSentinel:
    """One master, ``replicas`` replicas and ``sentinels`` sentinels watching it as
    ``service_name``; a dead master is noticed after ``down_after_ms``."""

    def __init__(
        self,
        service_name: str = "dynoq",
        replicas: int = 1,
        sentinels: int = 3,
        down_after_ms: int = 1000,
    ) -> None:
        self.service_name = service_name
        self.replica_count = replicas
        self.sentinel_count = sentinels
        self.down_after_ms = down_after_ms
        self.servers: list[RedisServer] = []
        self.sentinel_ports: list[int] = []
        self._sentinels: list[subprocess.Popen[bytes]] = []
        self._sentinel_dirs: list[RedisServer] = []

    @property
    def url(self) -> str:
        nodes = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{nodes}/{self.service_name}"

    def start(self) -> LocalSentinel:
        try:
            master = RedisServer(port=0).start()
            self.servers.append(master)
            for _ in range(self.replica_count):
                replica_args = ("--replicaof", "127.0.0.1", str(master.port))
                self.servers.append(RedisServer(port=0, extra_args=replica_args).start())
            for _ in range(self.sentinel_count):
                self._start_sentinel(master)
            self.wait_master_known()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_sentinel(self, master: RedisServer) -> None:
        # A sentinel rewrites its config file, so each gets its own, in a throw-away dir.
        holder = RedisServer(port=0)
        holder.dir = Path(tempfile.mkdtemp(prefix="dynoq-sentinel-"))
        self._sentinel_dirs.append(holder)
        port = free_port()
        config = holder.dir / "sentinel.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {holder.dir}\n"
            f"sentinel monitor {self.service_name} 127.0.0.1 {master.port} 2\n"
            f"sentinel down-after-milliseconds {self.service_name} {self.down_after_ms}\n"
            f"sentinel failover-timeout {self.service_name} 10000\n"
            f"sentinel parallel-syncs {self.service_name} 1\n"
        )
        process = subprocess.Popen(
            [find_redis_server(), str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._sentinels.append(process)
        self.sentinel_ports.append(port)

    def master_address(self) -> tuple[str, int] | None:
        for port in self.sentinel_ports:
            try:
                with redis.Redis(port=port, socket_timeout=2) as sentinel:
                    host, master_port = sentinel.sentinel_get_master_addr_by_name(self.service_name)
                    return str(host), int(master_port)
            except (redis.exceptions.RedisError, TypeError):
                continue
        return None

    def wait_master_known(self, timeout: float = 30.0) -> None:
        """Until every sentinel answers and knows the master, and the replicas are in sync."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.all_ready():
                return
            time.sleep(0.05)
        raise EmbeddedRedisError("the local Sentinel setup did not become ready")

    def all_ready(self) -> bool:
        try:
            for port in self.sentinel_ports:
                with redis.Redis(port=port, socket_timeout=2) as sentinel:
                    master = sentinel.sentinel_master(self.service_name)
                    if int(master.get("num-other-sentinels", 0)) < self.sentinel_count - 1:
                        return False
                    if int(master.get("num-slaves", 0)) < self.replica_count:
                        return False
                    if "failover" in str(master.get("flags", "")):
                        return False
            for server in self.servers:  # after a failover the roles have changed places
                with redis.Redis(port=server.port or 0, socket_timeout=2) as node:
                    replication = node.info("replication")
                    if (
                        replication["role"] != "master"
                        and replication["master_link_status"] != "up"
                    ):
                        return False
        except redis.exceptions.RedisError:
            return False
        return True

    def failover(self) -> None:
        """Asks a sentinel to promote a replica now (SENTINEL FAILOVER)."""
        with redis.Redis(port=self.sentinel_ports[0], socket_timeout=5) as sentinel:
            sentinel.execute_command("SENTINEL", "FAILOVER", self.service_name)

    def stop(self) -> None:
        for process in self._sentinels:
            process.terminate()
        for process in self._sentinels:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self._sentinels = []
        for server in self.servers + self._sentinel_dirs:
            server.stop()
        self.servers, self._sentinel_dirs = [], []

    def __enter__(self) -> LocalSentinel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
