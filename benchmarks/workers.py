"""Starting and stopping a system's worker as a child process, and waiting on its sink."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from benchmarks import sink
from benchmarks.peers.base import Peer

ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    """A peer's worker in its own process group, its output in ``log``."""

    def __init__(self, peer: Peer, sink_path: Path, log: Path, mode: str = "") -> None:
        env = dict(os.environ)
        env.update(
            BENCH_URL=peer.url,
            BENCH_SINK=str(sink_path),
            BENCH_MODE=mode,
            PYTHONPATH=os.environ.get("PYTHONPATH") or str(ROOT),
        )
        self.sink_path = sink_path
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen(
            peer.worker_argv(),
            env=env,
            cwd=os.environ.get("PYTHONPATH") or ROOT,  # first on the path of python -m
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_for(self, lines: int, timeout: float) -> int:
        """Waits until the sink holds ``lines`` lines; returns how many it holds. Raises if
        the worker died."""
        deadline = time.monotonic() + timeout
        while True:
            have = sink.count(self.sink_path)
            if have >= lines or time.monotonic() > deadline:
                return have
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"worker exited {self.proc.returncode}: {' | '.join(tail)}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):  # children left behind (prefork pools)
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log_file.close()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
