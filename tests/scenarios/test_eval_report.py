"""`make eval`'s table, from results and turns (the run itself is the scenario
runner, tested in tests/scenarios)."""

from __future__ import annotations

from devtools.eval import Turn, cost_per_1000, percentile, report
from devtools.scenarios import Outcome, Result, compare, scenario_kind


def test_report_has_rates_per_tenant_and_kind_latency_and_failures() -> None:
    results = [
        Result("a", [], 1.0, tenant="maple-court", kind="task", file="x.yaml"),
        Result(
            "b",
            ["notified [] != ['omar']"],
            1.0,
            tenant="maple-court",
            kind="notify",
            file="x.yaml",
        ),
        Result("c", [], 1.0, tenant="harbor-bistro", kind="task", file="y.yaml"),
    ]
    turns = [Turn(1000, 50, ms, 0.0, "switchboard/offline") for ms in (10, 20, 300)]
    text = report(results, turns, "switchboard/offline")
    assert "| maple-court | 1/2 (50%) |" in text
    assert "| task | 2/2 (100%) |" in text
    assert "| model latency (ms) | 20 | 300 |" in text
    assert "Cost per 1,000 turns: $0.00" in text
    assert "x.yaml:b (maple-court, notify)" in text and "['omar']" in text


def test_percentiles_and_cost_map() -> None:
    assert percentile([1, 2, 3, 4, 100], 0.5) == 3
    assert percentile([], 0.95) == 0
    priced = cost_per_1000([Turn(1000, 100, 5, 0.0, "gpt-4o-mini")], "gpt-4o-mini")
    assert priced.startswith("$") and priced != "$0.00"
    assert cost_per_1000([Turn(1, 1, 1, 0.0, "x")], "nobody/unknown").startswith("n/a")


def test_rejected_passes_when_the_model_declines_without_proposing() -> None:
    declined = Outcome(reply="I can't do that: residents cannot message others.")
    assert compare({"rejected": True, "notified": []}, declined) == []
    acted = Outcome(reply="Done", statuses=["executed"])
    assert compare({"rejected": True}, acted)
    silent = Outcome(reply="")
    assert compare({"rejected": True}, silent) == ["the sender was not told why"]


def test_scenario_kinds() -> None:
    assert scenario_kind({"expect": {"rejected": True}}) == "refusal"
    assert scenario_kind({"expect": {"approval": "manager"}}) == "approval"
    assert scenario_kind({"expect": {"tasks": [{}], "notified": ["a"]}}) == "task"
    assert scenario_kind({"expect": {"notified": []}}) == "answer"
    assert scenario_kind({"kind": "custom", "expect": {}}) == "custom"
