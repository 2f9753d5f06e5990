"""The figures /api/metrics serves, read by the benchmarks from the same source
(app/core/metrics_export.py), so a bench result and a production dashboard
describe a turn's stages, the model's tokens and the queues the same way.

Histogram quantiles are estimated as Prometheus' histogram_quantile does
(linear inside the bucket), so they are coarser than the bench's per-message
figures; the bench reports both, and the counts must agree.
"""

from __future__ import annotations

import math
from typing import Any

from app.core import metrics
from app.core.metrics_export import Snapshot, histogram_series, snapshot


def quantile(q: float, buckets: dict[str, float], count: float) -> float | None:
    """histogram_quantile over non-cumulative bucket counts (seconds)."""
    if count <= 0:
        return None
    rank, seen, lower = q * count, 0.0, 0.0
    for upper in metrics.BUCKETS:
        le = "+Inf" if math.isinf(upper) else repr(upper)
        n = buckets.get(le, 0.0)
        if seen + n >= rank and n > 0:
            if math.isinf(upper):
                return lower  # as Prometheus: the highest finite bound
            return lower + (upper - lower) * (rank - seen) / n
        seen += n
        if not math.isinf(upper):
            lower = upper
    return lower


def stage_figures(snap: Snapshot) -> dict[str, dict[str, Any]]:
    """Per stage: count, mean, p50 and p95 (ms) from the stage histogram."""
    out: dict[str, dict[str, Any]] = {}
    for s, h in histogram_series(snap.histograms).items():
        name, labels = metrics.parse_series(s)
        if name != metrics.STAGE_SECONDS:
            continue

        def ms(v: float | None) -> float | None:
            return None if v is None else round(v * 1000, 2)

        out[labels.get("stage", "")] = {
            "count": int(h.count),
            "mean_ms": ms(h.total / h.count if h.count else None),
            "p50_ms": ms(quantile(0.5, h.buckets, h.count)),
            "p95_ms": ms(quantile(0.95, h.buckets, h.count)),
        }
    return dict(sorted(out.items()))


def counter_totals(snap: Snapshot, name: str, by: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for field_name, v in snap.counters.items():
        metric, labels = metrics.parse_series(field_name)
        if metric == name:
            totals[labels.get(by, "")] = totals.get(labels.get(by, ""), 0.0) + v
    return totals


async def metrics_figures() -> dict[str, Any]:
    """What a scrape of /api/metrics would show now, summarised."""
    snap = await snapshot()
    return {
        "source": "app/core/metrics_export.py (GET /api/metrics)",
        "turns_by_outcome": counter_totals(snap, metrics.TURNS, "outcome"),
        "stages": stage_figures(snap),
        "model_tokens": counter_totals(snap, metrics.MODEL_TOKENS, "kind"),
        "notifications_by_channel": counter_totals(
            snap, metrics.NOTIFICATIONS, "channel"
        ),
        "refused_by_reason": counter_totals(snap, metrics.REFUSED, "reason"),
        "queue_waiting": sum(w for _a, w in snap.queue.values()),
    }
