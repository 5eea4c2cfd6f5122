"""The printed tables of a benchmark run, built from its JSON results."""

from __future__ import annotations

from typing import Any

from benchmarks.queue_throughput import print_table

REFERENCE = "dynoq"  # ratios are to this row, drain ratios to dynoq-worker
WORKER_REFERENCE = "dynoq-worker"


def fig(stat: dict[str, float] | None, digits: int = 0) -> str:
    if not stat:
        return "-"
    m, lo, hi = stat["median"], stat["min"], stat["max"]
    return f"{m:,.{digits}f} ({lo:,.{digits}f}-{hi:,.{digits}f})"


def ratio(value: float | None, reference: float | None) -> str:
    if value is None or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def median(result: dict[str, Any], key: str) -> float | None:
    stat = (result.get("throughput") or {}).get(key)
    return stat["median"] if stat else None


def status_note(result: dict[str, Any]) -> str:
    status = result.get("status", "?")
    if status == "ok":
        return ""
    errors = result.get("errors") or {}
    detail = "; ".join(f"{k}: {v}" for k, v in errors.items()) or status
    return f"{status}: {detail}"


def throughput_table(systems: list[dict[str, Any]], limits: dict[str, Any]) -> None:
    by_name = {s["system"]: s for s in systems}
    ref = by_name.get(REFERENCE, {})
    wref = by_name.get(WORKER_REFERENCE, {})
    header = [
        "system",
        "enqueue 1/call /s",
        "x",
        "enqueue batch100 /s",
        "x",
        "drain jobs/s",
        "x worker",
        "Redis CPU us/job",
        "x",
        "bytes/job",
        "x",
    ]
    rows = []
    for s in systems:
        t = s.get("throughput") or {}
        mem = (s.get("memory") or {}).get("bytes_per_job")
        ref_mem = (ref.get("memory") or {}).get("bytes_per_job")
        if not t and not mem:
            errors = s.get("errors") or {}
            failed = "throughput" in errors or "memory" in errors or s.get("status") != "ok"
            rows.append(
                [s["system"], "FAILED" if failed else "not run", *["-"] * (len(header) - 2)]
            )
            continue
        rows.append(
            [
                s["system"],
                fig(t.get("enqueue_single")),
                ratio(median(s, "enqueue_single"), median(ref, "enqueue_single")),
                fig(t.get("enqueue_batch")),
                ratio(median(s, "enqueue_batch"), median(ref, "enqueue_batch")),
                fig(t.get("drain")),
                ratio(median(s, "drain"), median(wref, "drain")),
                fig(t.get("cpu_us_per_job"), 1),
                ratio(median(s, "cpu_us_per_job"), median(ref, "cpu_us_per_job")),
                f"{mem:,.0f}" if mem else "-",
                ratio(mem, ref_mem),
            ]
        )
    hand = limits.get("hand_written") or {}
    if hand:
        rows.append(
            [
                "hand-written Lua loop",
                fig(hand["enqueue_single"]),
                ratio(hand["enqueue_single"]["median"], median(ref, "enqueue_single")),
                fig(hand["enqueue_batch"]),
                ratio(hand["enqueue_batch"]["median"], median(ref, "enqueue_batch")),
                fig(hand["drain"]),
                ratio(hand["drain"]["median"], median(wref, "drain")),
                fig(hand["cpu_us_per_job"], 1),
                ratio(hand["cpu_us_per_job"]["median"], median(ref, "cpu_us_per_job")),
                f"{hand['bytes_per_job']['median']:,.0f}",
                ratio(
                    hand["bytes_per_job"]["median"], (ref.get("memory") or {}).get("bytes_per_job")
                ),
            ]
        )
    print_table(
        "Workloads 1, 2, 5: median (min-max) of the repeats; x = ratio to dynoq"
        " (drain: to dynoq-worker); CPU/job = batched enqueue (if any) + drain",
        header,
        rows,
    )


def latency_table(systems: list[dict[str, Any]]) -> None:
    header = [
        "system",
        "delay single p50/p99 ms",
        "burst p50/p99/max ms",
        "burst enqueue s",
        "timers p50/p99/max ms",
        "priority share",
        "e2e jobs/s",
        "e2e p50/p99 ms",
    ]
    rows = []
    for s in systems:
        d = s.get("delay") or {}
        single, burst = d.get("single") or {}, d.get("burst") or {}
        pri, e2e, timers = s.get("priority"), s.get("e2e"), s.get("timers") or {}
        rows.append(
            [
                s["system"],
                f"{single['p50_ms']:.1f} / {single['p99_ms']:.1f}"
                + (f" ({single['early']} early)" if single.get("early") else "")
                if single.get("n")
                else "-",
                f"{burst['p50_ms']:.0f} / {burst['p99_ms']:.0f} / {burst['max_ms']:.0f}"
                if burst.get("n")
                else "-",
                f"{burst['enqueue_seconds']:.2f}" if burst.get("n") else "-",
                f"{timers['p50_ms']:.1f} / {timers['p99_ms']:.1f} / {timers['max_ms']:.0f}"
                + (f" ({timers['missing']} missing)" if timers.get("missing") else "")
                if timers.get("n")
                else "-",
                f"{pri['share_top_of_first']:.2f}" if pri else "n/a",
                f"{e2e['jobs_per_s']:,.0f}" if e2e else "-",
                f"{e2e['p50_ms']:.1f} / {e2e['p99_ms']:.1f}" if e2e else "-",
            ]
        )
    print_table(
        "Workloads 4, 7, 3: delay lateness (start - due; timers: 2,000 jobs due one after the"
        " other within a second), priority share of top level in the first 10% of starts"
        " (1.0 perfect), end-to-end push-to-start",
        header,
        rows,
    )


def limits_table(limits: dict[str, Any]) -> None:
    rows = [
        [name, fig(v["ops_per_s"]), fig(v["cpu_us_per_op"], 2)]
        for name, v in (limits.get("redis_benchmark") or {}).items()
        if isinstance(v, dict)
    ]
    hand = limits.get("hand_written") or {}
    if hand:
        rows.append(
            [
                "hand-written pop(100)+ack drain",
                fig(hand["drain"]),
                fig(hand["cpu_us_drain"], 2),
            ]
        )
    print_table(
        "The physical limit (redis-benchmark: 50 clients)",
        ["what", "ops/s", "Redis CPU us/op"],
        rows,
    )


def depth_table(depth: dict[str, Any]) -> None:
    rows = [
        [
            f"{int(d):,}",
            fig(v["msg_per_s"]),
            f"{v['push_p50_ms']:.2f} / {v['push_p99_ms']:.2f}",
            f"{v['pop_p50_ms']:.2f} / {v['pop_p99_ms']:.2f}",
            f"{v['ack_p50_ms']:.2f} / {v['ack_p99_ms']:.2f}",
            f"{v['used_memory'] / 2**20:,.0f}",
        ]
        for d, v in depth.items()
    ]
    print_table(
        "Workload 6: dynoq with messages already queued (half ready, half delayed)",
        ["depth", "push+pop+ack msg/s", "push p50/p99 ms", "pop p50/p99", "ack p50/p99", "MiB"],
        rows,
    )


def print_report(results: dict[str, Any]) -> None:
    systems = results["systems"]
    throughput_table(systems, results["limits"])
    latency_table(systems)
    limits_table(results["limits"])
    if results.get("depth"):
        depth_table(results["depth"])
    print("\nWhat each system was given:")
    for s in systems:
        g = s.get("given")
        note = status_note(s)
        if g:
            print(
                f"  {s['system']}: {g['concurrency']}; batch: {g['batch_api']};"
                f" delay: {g['delay_api']}; priority: {g['priority_api']}"
            )
        if note:
            print(f"  {s['system']}: {note}")
