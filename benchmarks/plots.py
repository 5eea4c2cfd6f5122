"""PNG plots of a benchmark run (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _bar(ax: Any, names: list[str], values: list[float], title: str, ylabel: str) -> None:
    colors = ["tab:blue" if n.startswith("dynoq") else "tab:gray" for n in names]
    ax.bar(names, values, color=colors)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=45)


def write_plots(results: dict[str, Any], folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    systems = [s for s in results["systems"] if s.get("throughput")]
    names = [s["system"] for s in systems]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    _bar(
        axes[0],
        names,
        [s["throughput"]["drain"]["median"] for s in systems],
        "Drain (workload 2)",
        "jobs/s",
    )
    axes[0].set_yscale("log")
    _bar(
        axes[1],
        names,
        [s["throughput"]["cpu_us_per_job"]["median"] for s in systems],
        "Redis CPU per job (workload 5)",
        "µs",
    )
    mem = [(s["system"], s["memory"]["bytes_per_job"]) for s in systems if s.get("memory")]
    _bar(axes[2], [n for n, _ in mem], [v for _, v in mem], "Memory per queued job", "bytes")
    fig.tight_layout()
    written.append(folder / "throughput.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    delayed = [s for s in results["systems"] if (s.get("delay") or {}).get("burst", {}).get("n")]
    if delayed:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        names = [s["system"] for s in delayed]
        p99 = [max(s["delay"]["burst"]["p99_ms"], 0.1) for s in delayed]
        _bar(ax, names, p99, "Burst of due jobs: lateness p99 (workload 4b)", "ms (log)")
        ax.set_yscale("log")
        fig.tight_layout()
        written.append(folder / "burst_lateness.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)

    depth = results.get("depth") or {}
    if depth:
        xs = [int(d) for d in depth]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.plot(xs, [v["msg_per_s"]["median"] for v in depth.values()], marker="o")
        ax.fill_between(
            xs,
            [v["msg_per_s"]["min"] for v in depth.values()],
            [v["msg_per_s"]["max"] for v in depth.values()],
            alpha=0.2,
        )
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("messages already queued (half ready, half delayed)")
        ax.set_ylabel("push+pop+ack msg/s (batches of 100)")
        ax.set_title("dynoq cost growth with queue depth (workload 6)")
        fig.tight_layout()
        written.append(folder / "depth.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written
