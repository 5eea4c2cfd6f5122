"""``python -m benchmarks run [--quick]``: dynoq against its peers and the physical limit.

One private redis-server (loopback, no persistence) for the whole run. The limit rows run in
this process; each system runs in a child process (``benchmarks.system``), one after the other,
the server flushed in between, so a peer that fails to import, crashes or hangs is reported
as such and the run goes on. Raw figures go to ``benchmarks/results/*.json``, plots next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from benchmarks.depth import depth_growth
from benchmarks.limits import hand_written, redis_benchmark
from benchmarks.peers import SYSTEMS
from benchmarks.report import print_report
from benchmarks.trees import python_path
from dynoq.testing import RedisServer

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parent.parent


def parse_count(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def run_system(
    name: str, url: str, options: list[str], timeout: float, tree: str | None = None
) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    argv = [sys.executable, "-m", "benchmarks.system", name, "--url", url, "--out", str(out)]
    argv += options
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            argv,
            cwd=python_path(tree),  # python -m puts the working directory first on the path
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": python_path(tree)},
        )
        if out.stat().st_size:
            result: dict[str, Any] = json.loads(out.read_text())
        else:
            tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
            result = {"system": name, "status": f"failed: exit {proc.returncode}: {tail}"}
    except subprocess.TimeoutExpired:
        result = {"system": name, "status": f"failed: no result within {timeout:.0f} s"}
    finally:
        out.unlink(missing_ok=True)
        redis.Redis.from_url(url).flushall()
    result["seconds"] = time.perf_counter() - started
    if tree is not None:
        result["system"] = f"{name} @ {tree}"
    return result


def machine(url: str) -> dict[str, Any]:
    info = redis.Redis.from_url(url).info("server")
    return {
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "redis": info["redis_version"],
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help="comma-separated, default all: " + ",".join(SYSTEMS),
    )
    parser.add_argument("--workloads", default="throughput,memory,delay,timers,priority,e2e")
    parser.add_argument(
        "--depths",
        default="1k,100k,1m",
        help="workload 6 depths, e.g. 1k,100k,1m,10m; 'none' skips it",
    )
    parser.add_argument("--jobs", type=int, help="jobs per figure of workloads 1 and 2 (20,000)")
    parser.add_argument("--e2e-seconds", type=float, help="length of workload 3 (60 s)")
    parser.add_argument("--no-limits", action="store_true", help="skip the physical-limit rows")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--baseline-tree",
        metavar="PATH",
        help="another dynoq checkout (e.g. main before a change): its dynoq and dynoq-worker"
        " run too, each just before this checkout's, against the same server",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    n, repeats = (2_000, 3) if quick else (20_000, 3)
    n = args.jobs or n
    options = ["--workloads", args.workloads] + (["--quick"] if quick else [])
    options += ["--jobs", str(n)]
    if args.e2e_seconds:
        options += ["--e2e-seconds", str(args.e2e_seconds)]
    server = RedisServer(port=0).start()
    results: dict[str, Any] = {
        "quick": quick,
        "argv": argv or sys.argv[1:],
        "systems": [],
        "limits": {},
    }
    try:
        url = server.url
        results["machine"] = machine(url)
        m = results["machine"]
        print(
            f"dynoq benchmarks: {m['cores']} cores, redis {m['redis']} (loopback, no"
            f" persistence), Python {m['python']}, {n:,} jobs per figure, {repeats} repeats",
            flush=True,
        )
        if not args.no_limits:
            print("physical limit ...", flush=True)
            results["limits"]["redis_benchmark"] = redis_benchmark(
                url, 20_000 if quick else 200_000, repeats
            )
            results["limits"]["hand_written"] = hand_written(url, n, repeats)
        runs: list[tuple[str, str | None]] = []
        for name in args.systems.split(","):
            if args.baseline_tree and name.startswith("dynoq"):
                runs.append((name, args.baseline_tree))
            runs.append((name, None))
        for name, tree in runs:
            print(f"{name}{f' @ {tree}' if tree else ''} ...", flush=True)
            result = run_system(name, url, options, 600 if quick else 1500, tree)
            source = f", dynoq from {result['dynoq_from']}" if result.get("dynoq_from") else ""
            print(f"  {result.get('status')} in {result['seconds']:.0f} s{source}", flush=True)
            results["systems"].append(result)
        if args.depths != "none":
            depths = [parse_count(d) for d in args.depths.split(",")]
            if quick:
                depths = [d for d in depths if d <= 100_000] or [1_000]
            print(f"cost growth at depths {depths} ...", flush=True)
            results["depth"] = depth_growth(url, depths, n, repeats)
    finally:
        server.stop()
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = RESULTS / f"run-{stamp}{'-quick' if quick else ''}.json"
    path.write_text(json.dumps(results, indent=2))
    print_report(results)
    print(f"\nraw figures: {path}")
    if not args.no_plots:
        try:
            from benchmarks.plots import write_plots

            for png in write_plots(results, RESULTS):
                print(f"plot: {png}")
        except ImportError as exc:
            print(f"no plots: {exc} (pip install -e '.[bench]')")
    return 0
