"""The metrics' storage shape and rendering, without Redis: what a scrape makes of
the hash fields the processes increment."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core import metrics
from app.core.metrics_export import Snapshot, families, render
from bench.metrics_read import quantile, stage_figures


def _snapshot(batch: metrics.Batch) -> Snapshot:
    """The hashes as Redis would hold them after `batch.send()`."""
    hists: dict[str, float] = {}
    for s, per in batch.buckets.items():
        for b, n in per.items():
            hists[json.dumps([s, b])] = n
        hists[json.dumps([s, "sum"])] = batch.sums[s]
        hists[json.dumps([s, "count"])] = sum(per.values())
    return Snapshot(
        slugs={"t1": "acme"},
        counters=dict(batch.counts),
        histograms=hists,
        queue={"t1": (1, 4)},
        live_tabs={"t1": 3},
    )


def test_a_turn_renders_as_prometheus_counters_and_histograms() -> None:
    record: dict[str, float | str] = {"tenant_id": "t1", "model": 40.0, "claim": 2.0}
    batch = metrics.turn_batch("t1", "done", record)
    metrics.model_call(batch, "switchboard/offline", "chat", 40, 300, 20)
    text = render(families(_snapshot(batch))).decode()
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }
    turn = (("outcome", "done"), ("tenant", "t1"), ("tenant_slug", "acme"))
    assert found[("switchboard_turns_total", turn)] == 1
    # 40 ms falls in the 0.05 s bucket: cumulative from there on, not below.
    bucket = "switchboard_turn_stage_seconds_bucket"
    for le, n in (("0.025", 0), ("0.05", 1), ("+Inf", 1)):
        assert found[(bucket, (("le", le), ("stage", "model")))] == n, le
    assert found[("switchboard_turn_stage_seconds_count", (("stage", "model"),))] == 1
    tokens = (("kind", "prompt"), ("model", "switchboard/offline"))
    assert found[("switchboard_model_tokens_total", tokens)] == 300
    depth = (("state", "waiting"), ("tenant", "t1"), ("tenant_slug", "acme"))
    assert found[("switchboard_queue_depth", depth)] == 4
    live = (("tenant", "t1"), ("tenant_slug", "acme"))
    assert found[("switchboard_live_connections", live)] == 3
    # Not stages: the record's ids and outcome.
    stages = {dict(k[1]).get("stage") for k in found} - {None}
    assert stages == {"model", "claim"}


def test_counters_and_histograms_add_up_within_a_batch() -> None:
    batch = metrics.Batch()
    batch.inc(metrics.NOTIFICATIONS, {"channel": "push"}, 2)
    batch.inc(metrics.NOTIFICATIONS, {"channel": "push"}, 3)
    batch.inc(metrics.NOTIFICATIONS, {"channel": "live"}, 0)  # nothing to send
    assert list(batch.counts.values()) == [5]
    batch.observe(metrics.MODEL_SECONDS, {"model": "m"}, 1.2)
    batch.observe(metrics.MODEL_SECONDS, {"model": "m"}, 120)  # past the last bound
    (per,) = batch.buckets.values()
    assert per == {"2.5": 1, "+Inf": 1}


def test_bench_quantiles_follow_prometheus_histogram_quantile() -> None:
    # 10 observations in (0.05, 0.1]: the median is halfway through that bucket.
    assert quantile(0.5, {"0.1": 10}, 10) == pytest.approx(0.075)
    assert quantile(0.5, {}, 0) is None
    batch = metrics.Batch()
    for ms in (10, 20, 30, 40):
        batch.observe(metrics.STAGE_SECONDS, {"stage": "claim"}, ms / 1000)
    figures = stage_figures(_snapshot(batch))
    assert figures["claim"]["count"] == 4
    assert figures["claim"]["mean_ms"] == 25.0
    assert 10 <= figures["claim"]["p50_ms"] <= 25
