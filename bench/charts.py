"""PNG charts for docs/feasibility.md (matplotlib, no screen: the Agg backend).

`CHARTS` names each chart and the results it needs; `draw` writes the ones whose
results exist into docs/feasibility/. bench/report.py links the same names, so the
Markdown (checked against the committed report by tests/test_report.py) and the
pictures come from one list. The tables next to each chart carry the numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display here or on a server

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

Results = dict[str, dict[str, Any]]
STAGES = (
    "queue_wait",
    "claim",
    "embedding",
    "retrieval",
    "model",
    "validation",
    "execution",
    "delivery",
)
RETRIEVAL_METHODS = ("naive_hnsw", "naive_planned", "exact", "hnsw", "auto")
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.2, 110


def _grouped_bars(
    ax: Axes, groups: list[str], series: dict[str, list[float]], fmt: str = "{:.0f}"
) -> None:
    n = max(1, len(series))
    width = 0.8 / n
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=name)
        # Many series: narrow bars, so the figures stand upright.
        crowded = n > 3
        ax.bar_label(
            bars,
            labels=[fmt.format(v) for v in values],
            fontsize=6 if crowded else 7,
            rotation=90 if crowded else 0,
            padding=2,
        )
    ax.set_xticks(range(len(groups)), groups)
    ax.margins(y=0.15)  # room for the figures above the tallest bar
    ax.legend(fontsize=8)


def _stages(r: Results) -> Figure:
    p = r["pipeline"]
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    series = {
        f"p50 at {rate} msg/s": [
            float((run["stages"].get(s) or {}).get("p50_ms") or 0.0) for s in STAGES
        ]
        for rate, run in p["rates"].items()
    }
    _grouped_bars(ax, list(STAGES), series)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_ylabel("ms (log above 10)")
    ax.set_title("Turn latency by stage, offline model, one worker process")
    ax.tick_params(axis="x", labelsize=8)
    return fig


def _throughput(r: Results) -> Figure:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    top = 0.0
    for name, label in (("pipeline", "offline model"), ("slow_model", "1.5 s model")):
        if name not in r:
            continue
        rates = r[name]["rates"]
        offered = [float(x) for x in rates]
        sustained = [float(v["throughput_per_s"]) for v in rates.values()]
        ax.plot(offered, sustained, marker="o", label=label)
        top = max(top, *offered)
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="all offered")
    ax.set_xlabel("offered msg/s")
    ax.set_ylabel("sustained msg/s")
    ax.set_title("Throughput of one worker process (one core)")
    ax.legend(fontsize=8)
    return fig


def _fairness(r: Results) -> Figure:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    groups, alone, flood, burst = [], [], [], []
    for name, label in (("pipeline", "offline model"), ("slow_model", "1.5 s model")):
        fa = (r.get(name) or {}).get("fairness")
        if not fa:
            continue
        groups.append(label)
        alone.append(float(fa["quiet_p95_alone_ms"]))
        flood.append(float(fa["quiet_p95_with_flood_ms"]))
        burst.append(float(fa.get("quiet_p95_with_burst_ms") or 0.0))
    _grouped_bars(
        ax,
        groups,
        {"alone": alone, "one tenant at 10x": flood, "its bursts": burst},
    )
    ax.set_ylabel("quiet tenants' p95, ms")
    ax.set_title("Fairness: the other tenants' p95 while one tenant floods")
    return fig


def _fanout(r: Results) -> Figure:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    series = [("hub", (r.get("fanout") or {}).get("runs") or {})]
    pages = (r.get("fanout_sockets") or {}).get("runs") or {}
    series += [(f"sockets {page}", runs) for page, runs in pages.items()]
    for label, runs in series:
        tabs = [int(n) for n in runs]
        for q in ("p50_ms", "p95_ms"):
            values = [float(v[q]) for v in runs.values()]
            ax.plot(tabs, values, marker="o", label=f"{label} {q[:3]}")
    ax.axhline(250, linestyle="--", color="grey", label="250 ms target")
    ax.set_xscale("log")
    ax.set_xlabel("open tabs on one backend process")
    ax.set_ylabel("commit → tab, ms")
    ax.set_title("Fan-out: a 200-person notification to open apps")
    ax.legend(fontsize=8)
    return fig


def _retrieval(name: str) -> Callable[[Results], Figure]:
    def draw(r: Results) -> Figure:
        res = r[name]
        classes = list(res["classes"])
        fig, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_IN * 1.3, HEIGHT_IN))
        methods = [m for m in RETRIEVAL_METHODS if m in res["classes"][classes[0]]]
        _grouped_bars(
            left,
            classes,
            {
                m: [float(res["classes"][c][m]["recall_at_10"]) for c in classes]
                for m in methods
            },
            "{:.2f}",
        )
        left.set_ylim(0, 1.5)
        left.set_ylabel("recall@10")
        _grouped_bars(
            right,
            classes,
            {
                m: [float(res["classes"][c][m]["p95_ms"]) for c in classes]
                for m in methods
            },
            "{:.0f}",
        )
        right.set_yscale("log")
        right.margins(y=0.25)
        right.set_ylabel("p95 ms (log)")
        left.legend(fontsize=7, ncol=3, loc="upper center")
        right.get_legend().remove()  # the same series as on the left
        rows = res["params"]["rows"]
        fig.suptitle(f"Retrieval by tenant size, {rows:,} memories")
        return fig

    return draw


def _cost(r: Results) -> Figure:
    c = r["pipeline"]["cost"]
    profiles = list(c["profiles"])
    priced = {n: m for n, m in c["models"].items() if m.get("per_month")}
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    _grouped_bars(
        ax,
        profiles,
        {n: [float(m["per_month"][p]) for p in profiles] for n, m in priced.items()},
        "${:.2f}",
    )
    ax.set_ylabel("$ per tenant per month")
    ax.set_title("Model cost per tenant per month (litellm's cost map)")
    return fig


# name -> (results it needs, what it draws, alt text)
CHARTS: dict[str, tuple[tuple[str, ...], Callable[[Results], Figure], str]] = {
    "stages": (("pipeline",), _stages, "Turn latency by stage"),
    "throughput": (("pipeline",), _throughput, "Throughput per worker process"),
    "fairness": (("pipeline",), _fairness, "Fairness under a flood"),
    "fanout": (("fanout",), _fanout, "Fan-out delivery by open tabs"),
    "retrieval": (("retrieval",), _retrieval("retrieval"), "Retrieval"),
    "retrieval_1m": (
        ("retrieval_1m",),
        _retrieval("retrieval_1m"),
        "Retrieval at 1M memories",
    ),
    "cost": (("pipeline",), _cost, "Cost per tenant per month by model"),
}


def available(results: Results) -> list[str]:
    return [
        n for n, (needs, _, _) in CHARTS.items() if all(k in results for k in needs)
    ]


def image(name: str) -> str:
    """The Markdown that shows a chart (docs/feasibility.md → docs/feasibility/)."""
    return f"![{CHARTS[name][2]}](feasibility/{name}.png)"


def draw(results: Results, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in available(results):
        fig = CHARTS[name][1](results)
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        # No timestamp in the file: a re-render of the same results is the same PNG.
        fig.savefig(path, dpi=DPI, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written
