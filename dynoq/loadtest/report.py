"""The outcome of a ``dynoq bench`` run: the progress line, the final table, the JSON and the
optional plot."""

from __future__ import annotations

import json
import math
from typing import Any

from dynoq.core.urls import redact_url
from dynoq.errors import DynoqError
from dynoq.loadtest.options import BenchOptions
from dynoq.loadtest.runner import BenchResult, Second

PNG_HINT = "--png needs matplotlib, which comes with the bench extra: pip install 'dynoq[bench]'"
LATENCY_NOTE = "latency: from when a message was due (its intended send time + delay) to its ack"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _count(count: int, noun: str, plural: str = "") -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def describe(options: BenchOptions) -> str:
    """One line saying what runs, e.g. ``closed loop, 10 s, 1 process, ...``."""
    mode = f"open loop at {options.rate:,g} msg/s" if options.open_loop else "closed loop"
    parts = [
        mode,
        f"{options.duration:g} s",
        _count(options.processes, "process", "processes"),
        _count(options.producers, "producer"),
        _count(options.consumers, "consumer"),
        f"batch {options.batch}",
        _count(options.shards, "shard"),
        f"{options.payload_bytes}-byte payloads",
    ]
    return ", ".join(parts)


def progress_line(second: Second) -> str:
    summary = second.latency.summary()
    return (
        f"{second.second + 1:4d}s  pushed {second.pushed:8,d}/s  acked {second.acked:8,d}/s  "
        f"p50 {_ms(summary['p50']):>7} ms  p99 {_ms(summary['p99']):>7} ms  "
        f"backlog {'-' if second.backlog is None else f'{second.backlog:,}':>9}"
        + (f"  errors {second.errors}" if second.errors else "")
    )


def scheduled(options: BenchOptions) -> int | None:
    """How many messages the open-loop schedule holds (None in closed loop)."""
    if options.rate is None:
        return None
    return math.ceil(options.rate * options.duration - 1e-9)


def _rounded(latency: dict[str, float | None]) -> dict[str, float | None]:
    return {key: None if v is None else round(v, 3) for key, v in latency.items()}


def summary(result: BenchResult, url: str) -> dict[str, Any]:
    """Every figure of the run, as JSON-ready values; ``url`` is the Redis URL as given."""
    options = result.options
    pushed = sum(s.pushed for s in result.seconds)
    acked = sum(s.acked for s in result.seconds)
    return {
        "redis": redact_url(url),
        "namespace": options.namespace,
        "queue": options.queue,
        "options": {
            "mode": "open" if options.open_loop else "closed",
            "rate": options.rate,
            "duration_s": options.duration,
            "processes": options.processes,
            "producers": options.producers,
            "consumers": options.consumers,
            "batch": options.batch,
            "shards": options.shards,
            "payload_bytes": options.payload_bytes,
            "priorities": [list(pair) for pair in options.priorities],
            "delay_mix": [list(pair) for pair in options.delays],
        },
        "scheduled": scheduled(options),
        "pushed": pushed,
        "acked": acked,
        "push_per_s": pushed / options.duration,
        "ack_per_s": acked / options.duration,
        "errors": sum(s.errors for s in result.seconds),
        "last_error": result.last_error,
        "latency_ms": _rounded(result.latency.summary()),
        "latency_note": LATENCY_NOTE,
        "backlog_at_end": result.backlog_at_end,
        "seconds": [
            {
                "second": s.second,
                "pushed": s.pushed,
                "acked": s.acked,
                "errors": s.errors,
                "latency_ms": _rounded(s.latency.summary()),
                "backlog": s.backlog,
            }
            for s in result.seconds
        ],
    }


def table(figures: dict[str, Any]) -> str:
    latency = figures["latency_ms"]
    rows: list[tuple[str, str]] = [("METRIC", "VALUE")]
    if figures["scheduled"] is not None:
        rows.append(("scheduled", f"{figures['scheduled']:,}"))
    rows += [
        ("pushed", f"{figures['pushed']:,}  ({figures['push_per_s']:,.0f}/s)"),
        ("acked", f"{figures['acked']:,}  ({figures['ack_per_s']:,.0f}/s)"),
        ("latency p50 ms", _ms(latency["p50"])),
        ("latency p90 ms", _ms(latency["p90"])),
        ("latency p99 ms", _ms(latency["p99"])),
        ("latency max ms", _ms(latency["max"])),
        ("errors", f"{figures['errors']:,}"),
        ("backlog at end", f"{figures['backlog_at_end']:,}"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
    if figures["last_error"]:
        lines.append(f"last error: {figures['last_error']}")
    return "\n".join(lines)


def write_json(figures: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(figures, handle, indent=2)
        handle.write("\n")


def check_plotting() -> None:
    """Raises a one-line DynoqError if matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise DynoqError(PNG_HINT) from None


def write_png(figures: dict[str, Any], title: str, path: str) -> None:
    """Throughput (pushed, acked per second) and latency (p50, p99, max) over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = figures["seconds"]
    x = [s["second"] + 1 for s in seconds]
    figure, (rates, latencies) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    rates.plot(x, [s["pushed"] for s in seconds], label="pushed/s")
    rates.plot(x, [s["acked"] for s in seconds], label="acked/s")
    rates.set_ylabel("messages/s")
    rates.legend(loc="lower right")
    for key in ("p50", "p99", "max"):
        values = [s["latency_ms"][key] for s in seconds]
        latencies.plot(x, [math.nan if v is None else v for v in values], label=key)
    latencies.set_yscale("log")
    latencies.set_ylabel("latency ms")
    latencies.set_xlabel("second of the run")
    latencies.legend(loc="upper left")
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
