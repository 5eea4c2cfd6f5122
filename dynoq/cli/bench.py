"""``dynoq bench``: from command-line arguments to the report."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import uuid
from types import FrameType

from dynoq.backend.connect import resolve_url
from dynoq.core.urls import Topology, parse_redis_url, redact_url
from dynoq.loadtest import report
from dynoq.loadtest.options import BenchOptions, parse_delay_mix, parse_priorities
from dynoq.loadtest.runner import Second, run


def options_from(args: argparse.Namespace, url: str, namespace: str) -> BenchOptions:
    """Validates everything, Redis URL included, without connecting."""
    parse_redis_url(url)
    return BenchOptions(
        url=url,
        namespace=namespace,
        queue=args.queue or f"bench-{uuid.uuid4().hex[:8]}",
        producers=args.producers,
        consumers=args.consumers,
        processes=args.processes,
        shards=args.shards,
        payload_bytes=args.payload_bytes,
        priorities=parse_priorities(args.priorities),
        delays=parse_delay_mix(args.delay_mix) if args.delay_mix else (),
        duration=args.duration,
        batch=args.batch,
        rate=args.rate,
    )


class ProgressLine:
    """One line a second on stderr: rewritten in place on a terminal, appended otherwise."""

    def __init__(self) -> None:
        self._live = sys.stderr.isatty()
        self._written = False

    def __call__(self, second: Second) -> None:
        line = report.progress_line(second)
        if self._live:
            print(f"\r{line}\033[K", end="", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)
        self._written = True

    def close(self) -> None:
        if self._live and self._written:
            print(file=sys.stderr)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace, url: str, namespace: str) -> int:
    options = options_from(args, url, namespace)
    if args.png:
        report.check_plotting()
    options = dataclasses.replace(options, url=resolve_url(url))
    where = f"queue {options.queue!r} (namespace {options.namespace!r}) on {redact_url(url)}"
    progress = ProgressLine() if args.progress or sys.stderr.isatty() else None

    def announce() -> None:
        if progress is not None:
            print(f"dynoq bench: {report.describe(options)}; {where}", file=sys.stderr)

    embedded = parse_redis_url(url).topology is Topology.EMBEDDED
    previous = signal.signal(signal.SIGTERM, _interrupt)  # clean up on kill as on Ctrl-C
    try:
        result = run(
            options, force=args.force, embedded=embedded, on_start=announce, on_second=progress
        )
    except KeyboardInterrupt:
        done = "the embedded redis-server is discarded" if embedded else "its keys were deleted"
        if progress is not None:
            progress.close()
        print(f"dynoq: interrupted; {done} (queue {options.queue!r})", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if progress is not None:
        progress.close()
    figures = report.summary(result, url)
    print(f"{report.describe(options)}; {where}")
    print(report.table(figures))
    print(report.LATENCY_NOTE)
    if args.json:
        report.write_json(figures, args.json)
    if args.png:
        report.write_png(figures, report.describe(options), args.png)
    return 0
