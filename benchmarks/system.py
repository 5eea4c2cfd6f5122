"""Runs every workload for one system and writes its figures as JSON (a child of ``run``, so
a peer that crashes or hangs fails alone).

    python -m benchmarks.system NAME --url URL --out FILE [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from benchmarks import sink
from benchmarks.peers import load
from benchmarks.peers.base import Peer
from benchmarks.stats import latency_summary, spread
from benchmarks.workers import WorkerProcess


@dataclass(frozen=True)
class Sizes:
    jobs: int = 20_000  # workloads 1 and 2
    repeats: int = 3
    memory_jobs: int = 100_000  # workload 5
    delayed_singles: int = 20  # workload 4a
    burst: int = 2_000  # workload 4b
    burst_ahead: float = 2.0
    timers: int = 2_000  # workload 4c: delayed jobs whose due times spread over timers_spread
    timers_spread: float = 1.0
    timers_ahead: float = 3.0  # the first is due this long after the enqueue starts
    priority_jobs: int = 10_000  # workload 7
    e2e_seconds: float = 60.0  # workload 3
    e2e_window: int = 1_000  # jobs in flight at most: the producer waits beyond it

    @classmethod
    def quick(cls) -> Sizes:
        return cls(2_000, 3, 10_000, 5, 500, 2.0, 500, 1.0, 3.0, 2_000, 5.0, 500)


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


class SystemBench:
    def __init__(self, peer: Peer, client: redis.Redis, sizes: Sizes, work: Path) -> None:
        self.peer, self.client, self.sizes, self.work = peer, client, sizes, work
        self.runs = 0

    def fresh_sink(self) -> Path:
        self.runs += 1
        path = self.work / f"sink-{self.runs}.txt"
        os.environ[sink.SINK_ENV] = str(path)
        return path

    def worker(self, path: Path, mode: str = "") -> WorkerProcess:
        return WorkerProcess(self.peer, path, self.work / "worker.log", mode)

    def warm_up(self, worker: WorkerProcess) -> int:
        """Sends one job and waits for it: the worker is up. Returns the sink's line count."""
        before = sink.count(worker.sink_path)
        self.peer.enqueue(["warm"])
        have = worker.wait_for(before + 1, 60)
        if have < before + 1:
            raise RuntimeError("the worker did not run a warm-up job within 60 s")
        return have

    # workloads 1, 2 and 5 (CPU) --------------------------------------------------------
    def enqueue_and_drain(self) -> dict[str, Any]:
        n = self.sizes.jobs
        tags = ["0"] * n
        out: dict[str, Any] = {}
        self.client.flushall()
        cpu = redis_cpu(self.client)
        start = time.perf_counter()
        self.peer.enqueue(tags)
        out["enqueue_single"] = n / (time.perf_counter() - start)
        enqueue_cpu = redis_cpu(self.client) - cpu
        out["cpu_us_enqueue_single"] = enqueue_cpu / n * 1e6
        if self.peer.has_batch:
            self.client.flushall()
            cpu = redis_cpu(self.client)
            start = time.perf_counter()
            self.peer.enqueue_batch(tags)
            out["enqueue_batch"] = n / (time.perf_counter() - start)
            enqueue_cpu = redis_cpu(self.client) - cpu
            out["cpu_us_enqueue_batch"] = enqueue_cpu / n * 1e6
        path = self.fresh_sink()
        cpu = redis_cpu(self.client)
        drain_here = getattr(self.peer, "drain_here", None)
        if drain_here is not None:
            drain_here(n)
            sink.flush()
        else:
            with self.worker(path) as worker:
                have = worker.wait_for(n, 60 + n / 100)
                if have < n:
                    raise RuntimeError(f"drain: only {have} of {n} jobs ran")
        drain_cpu = redis_cpu(self.client) - cpu
        stamps = [t for t, _ in sink.read(path)]
        out["drain"] = (len(stamps) - 1) / (stamps[-1] - stamps[0])
        out["cpu_us_drain"] = drain_cpu / n * 1e6
        out["cpu_us_per_job"] = (enqueue_cpu + drain_cpu) / n * 1e6
        return out

    # workload 5 (memory) ---------------------------------------------------------------
    def memory(self) -> dict[str, Any]:
        m = self.sizes.memory_jobs
        self.client.flushall()
        before = int(self.client.info("memory")["used_memory"])
        enqueue = self.peer.enqueue_batch if self.peer.has_batch else self.peer.enqueue
        enqueue([f"{i}" for i in range(m)])
        after = int(self.client.info("memory")["used_memory"])
        self.client.flushall()
        return {"bytes_per_job": (after - before) / m, "jobs": m}

    # workload 4 ------------------------------------------------------------------------
    def delays(self) -> dict[str, Any]:
        self.client.flushall()
        path = self.fresh_sink()
        out: dict[str, Any] = {}
        with self.worker(path) as worker:
            have = self.warm_up(worker)
            lateness = []
            for k in range(self.sizes.delayed_singles):
                due = self.peer.enqueue_at(f"d{k}", time.time() + 0.25)
                have = worker.wait_for(have + 1, 30)
                started = {tag: t for t, tag in sink.read(path)}
                if f"d{k}" in started:
                    lateness.append(started[f"d{k}"] - due)
            out["single"] = latency_summary(lateness) if lateness else {"n": 0}
            out["single"]["early"] = sum(1 for s in lateness if s < 0)
            burst = self.sizes.burst
            start = time.time()
            due = start + self.sizes.burst_ahead
            dues = [self.peer.enqueue_at(f"b{i}", due) for i in range(burst)]
            enqueue_seconds = time.time() - start
            worker.wait_for(have + burst, 60 + self.sizes.burst_ahead)
            started_at = [t for t, tag in sink.read(path) if tag.startswith("b")]
            late = [t - max(dues) for t in started_at]
            out["burst"] = latency_summary(late) if late else {"n": 0}
            out["burst"]["enqueue_seconds"] = enqueue_seconds
            out["burst"]["missing"] = burst - len(late)
        return out

    # workload 4c ---------------------------------------------------------------------
    def timers(self) -> dict[str, Any]:
        """Many timers at once: ``timers`` delayed jobs due one after the other within
        ``timers_spread`` seconds; lateness = handler start - that job's own due time."""
        self.client.flushall()
        path = self.fresh_sink()
        n, spread = self.sizes.timers, self.sizes.timers_spread
        with self.worker(path) as worker:
            have = self.warm_up(worker)
            start = time.time()
            first = start + self.sizes.timers_ahead
            dues = {
                f"t{i}": self.peer.enqueue_at(f"t{i}", first + i * spread / n) for i in range(n)
            }
            enqueue_seconds = time.time() - start
            worker.wait_for(have + n, 60 + self.sizes.timers_ahead)
            late = [t - dues[tag] for t, tag in sink.read(path) if tag in dues]
        out: dict[str, Any] = latency_summary(late) if late else {"n": 0}
        out["enqueue_seconds"] = enqueue_seconds
        out["missing"] = n - len(late)
        out["early"] = sum(1 for s in late if s < 0)
        return out

    # workload 7 ------------------------------------------------------------------------
    def priority(self) -> dict[str, Any]:
        total = self.sizes.priority_jobs
        first = total // 10
        self.client.flushall()
        self.peer.enqueue_priority([(f"p{i % 10}", i % 10) for i in range(total)])
        path = self.fresh_sink()
        with self.worker(path, mode="priority") as worker:
            worker.wait_for(first, 60)
        tags = [tag for _, tag in sink.read(path)][:first]
        return {"share_top_of_first": sum(t == "p0" for t in tags) / first, "first": first}

    # workload 3 ------------------------------------------------------------------------
    def end_to_end(self) -> dict[str, Any]:
        self.client.flushall()
        path = self.fresh_sink()
        line = len(f"{time.time():.6f} {time.time():.6f}\n")
        window = self.sizes.e2e_window
        with self.worker(path) as worker:
            self.warm_up(worker)
            base = path.stat().st_size
            pushed = 0
            start = time.time()
            end = start + self.sizes.e2e_seconds
            while (now := time.time()) < end:
                if pushed % 50 == 0:
                    while pushed - (path.stat().st_size - base) // line >= window:
                        time.sleep(0.0005)
                self.peer.enqueue([f"{now:.6f}"])
                pushed += 1
            worker.wait_for(pushed + 1, 30)
        rows = [(t, tag) for t, tag in sink.read(path) if tag != "warm"]
        in_window = [(t, tag) for t, tag in rows if t <= end]
        latency = [t - float(tag) for t, tag in rows]
        return {
            "jobs_per_s": len(in_window) / self.sizes.e2e_seconds,
            "pushed": pushed,
            "ran": len(rows),
            **latency_summary(latency),
        }


def attempt(errors: dict[str, str], name: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # one workload failing must not hide the others
        errors[name] = f"{type(exc).__name__}: {exc}".strip()[:300]
        traceback.print_exc()
        return None


def run_system(name: str, url: str, sizes: Sizes, workloads: set[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"system": name, "errors": {}, "sizes": dataclasses.asdict(sizes)}
    errors: dict[str, str] = result["errors"]
    os.environ["BENCH_URL"] = url
    peer = attempt(errors, "setup", lambda: load(name, url))
    if peer is None:
        result["status"] = f"failed to load: {errors['setup']}"
        return result
    result["given"] = dataclasses.asdict(peer.given)
    client = redis.Redis.from_url(url)
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        bench = SystemBench(peer, client, sizes, Path(tmp))
        if "throughput" in workloads:
            reps = [
                attempt(errors, "throughput", bench.enqueue_and_drain) for _ in range(sizes.repeats)
            ]
            done = [r for r in reps if r]
            if done:
                result["throughput"] = {k: spread([r[k] for r in done]) for k in done[0]}
        if "memory" in workloads:
            result["memory"] = attempt(errors, "memory", bench.memory)
        is_library = getattr(peer, "drain_here", None) is not None
        if "delay" in workloads and not is_library:
            result["delay"] = attempt(errors, "delay", bench.delays)
        if "timers" in workloads and not is_library:
            result["timers"] = attempt(errors, "timers", bench.timers)
        if "priority" in workloads and peer.has_priority and not is_library:
            result["priority"] = attempt(errors, "priority", bench.priority)
        if "e2e" in workloads and not is_library:
            result["e2e"] = attempt(errors, "e2e", bench.end_to_end)
        log = Path(tmp) / "worker.log"
        if errors and log.exists():
            result["worker_log_tail"] = log.read_text(errors="replace")[-2000:]
    client.flushall()
    client.close()
    attempt(errors, "close", peer.close)
    if "dynoq" in sys.modules:  # which checkout's dynoq ran (see --baseline-tree)
        result["dynoq_from"] = str(Path(sys.modules["dynoq"].__file__ or "").parent.parent)
    result["status"] = "ok" if not errors else "partial"
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("system")
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workloads", default="throughput,memory,delay,timers,priority,e2e")
    parser.add_argument("--jobs", type=int, help="jobs per figure of workloads 1 and 2")
    parser.add_argument("--e2e-seconds", type=float, help="length of workload 3")
    args = parser.parse_args()
    sizes = Sizes.quick() if args.quick else Sizes()
    if args.jobs:
        sizes = dataclasses.replace(sizes, jobs=args.jobs)
    if args.e2e_seconds:
        sizes = dataclasses.replace(sizes, e2e_seconds=args.e2e_seconds)
    result = run_system(args.system, args.url, sizes, set(args.workloads.split(",")))
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
