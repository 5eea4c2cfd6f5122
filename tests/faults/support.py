"""What the fault tests share: child processes killed by pid whatever happens, a redis-server
that can be killed and restarted on the same port and files, and plain HTTP calls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from dynoq.testing import free_port, wait_until

DYNOQ = [sys.executable, "-m", "dynoq"]


class Processes:
    """Child processes, each killed (SIGKILL, by pid) when the test ends."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def spawn(
        self,
        *args: str,
        cwd: Path | None = None,
        log: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        out: Any = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            process = subprocess.Popen(
                list(args),
                cwd=cwd,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
            )
        finally:
            if log is not None:
                out.close()
        self.started.append(process)
        return process

    def dynoq(self, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
        return self.spawn(*DYNOQ, *args, **kwargs)

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def processes() -> Iterator[Processes]:
    running = Processes()
    try:
        yield running
    finally:
        running.kill_all()


class RestartableRedis:
    """A redis-server on a fixed port and directory, so it can be SIGKILLed, SIGSTOPped and
    started again on the same data (its AOF when ``appendfsync`` is given)."""

    def __init__(self, *extra: str, appendfsync: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dynoq-faults-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        persistence = (
            ["--appendonly", "yes", "--appendfsync", appendfsync]
            if appendfsync
            else ["--appendonly", "no"]
        )
        self.args = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), *persistence,
            *extra,
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RestartableRedis:
        self.process = subprocess.Popen(
            self.args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=20, message="redis-server did not come up")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)

    def ping(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except redis.exceptions.RedisError:  # down, or LOADING while it replays its AOF
            return False

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
        self.kill()
        for path in sorted(self.dir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        self.dir.rmdir()

    def __enter__(self) -> RestartableRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> tuple[int, Any]:
    """(status, JSON body, or the text when it is not JSON)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        text, status = error.read(), error.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode(errors="replace")


def start_server(
    running: Processes,
    redis_url: str,
    namespace: str,
    *extra: str,
    log: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """``dynoq server`` as a child process; its base URL once /health answers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    running.dynoq(
        "server",
        "--redis-url",
        redis_url,
        "--namespace",
        namespace,
        "--port",
        str(port),
        *extra,
        log=log,
        env=env,
    )

    def up() -> bool:
        try:
            return call(base, "GET", "/health", timeout=2)[0] == 200
        except OSError:
            return False

    wait_until(up, timeout=30, interval=0.05, message="dynoq server did not come up")
    return base


def keys(client: redis.Redis, namespace: str) -> list[bytes]:
    return sorted(client.scan_iter(match=f"{namespace}:*", count=1000))


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)
