"""A private, throw-away ``redis-server``: temp dir, no persistence, stopped on exit.

``from_url("embedded://")`` starts one per process on first use (a unix socket, so no port can
clash) and stops it when the process exits. Tests start their own on a loopback port.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis

from dynoq.errors import EmbeddedRedisError

INSTALL_HINT = (
    "redis-server was not found on PATH. Install it: 'sudo apt-get install redis-server' "
    "(Debian/Ubuntu), 'sudo dnf install redis' (Fedora), 'brew install redis' (macOS); "
    "or pass a redis:// URL instead of embedded://"
)
START_TIMEOUT_SECONDS = 15.0


def find_redis_server() -> str:
    path = shutil.which("redis-server")
    if path is None:
        raise EmbeddedRedisError(INSTALL_HINT)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A redis-server child process.

    With ``port=None`` it listens only on a unix socket in its temp dir; otherwise on
    127.0.0.1:``port`` (0 picks a free one). ``extra_args`` are passed to redis-server as is.
    """

    def __init__(self, port: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        self._requested_port = port
        self._extra_args = extra_args
        self.port: int | None = None
        self.dir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def unix_socket(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "redis.sock"

    @property
    def url(self) -> str:
        if self.port is not None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"unix://{self.unix_socket}"

    def start(self) -> RedisServer:
        binary = find_redis_server()
        for _ in range(5):  # a free port can be taken between choosing and binding it
            self.dir = Path(tempfile.mkdtemp(prefix="dynoq-redis-"))
            self.port = (
                None if self._requested_port is None else (self._requested_port or free_port())
            )
            args = [
                binary, "--save", "", "--appendonly", "no", "--dir", str(self.dir),
                "--unixsocket", str(self.unix_socket), "--unixsocketperm", "700",
                "--port", str(self.port or 0), "--bind", "127.0.0.1", "--daemonize", "no",
                "--logfile", str(self.dir / "redis.log"), *self._extra_args,
            ]  # fmt: skip
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            if self._wait_ready():
                return self
            log = self._read_log()
            self.stop()
            if self._requested_port not in (None, 0) or "Address already in use" not in log:
                raise EmbeddedRedisError(f"redis-server did not start: {log.strip()[-500:]}")
        raise EmbeddedRedisError("redis-server did not start: no free port found")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            if self.unix_socket.exists():
                try:
                    with redis.Redis(unix_socket_path=str(self.unix_socket)) as client:
                        if client.ping():
                            return True
                except redis.exceptions.RedisError:
                    pass
            time.sleep(0.01)
        return False

    def _read_log(self) -> str:
        try:
            return (self.dir / "redis.log").read_text() if self.dir else ""
        except OSError:
            return ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        """Kills the server abruptly (SIGKILL), as a crash would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_shared: RedisServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> RedisServer:
    """The process-wide embedded server, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            server = RedisServer().start()
            owner = os.getpid()
            atexit.register(lambda: server.stop() if os.getpid() == owner else None)
            _shared = server
        return _shared
