"""`make report`: the committed results render into docs/feasibility.md, every
target with its measured value, and the committed report is the rendered one."""

from __future__ import annotations

import re
import time
from pathlib import Path

from bench import charts
from bench.machine import calibration_work, cpu_calibration_ms, target
from bench.report import (
    REPORT,
    burst_from_submit,
    fairness_samples,
    load,
    machine_line,
    missed_below,
    render,
    split_section,
    submit_cost,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_target_reports_value_limit_and_met() -> None:
    assert target(120.0, 100.0) == {
        "value": 120.0,
        "limit": 100.0,
        "op": "<=",
        "met": False,
    }
    assert target(0.995, 0.99, at_most=False)["met"] is True


def test_every_result_and_target_is_in_the_report() -> None:
    results = load()
    assert {"pipeline", "slow_model", "fanout", "retrieval"} <= set(results)
    text = render(results)
    for bench, data in results.items():
        assert "cores" in data["machine"] and "load_avg_1m" in data["machine"]
        for key, t in data["targets"].items():
            (row,) = [
                line
                for line in text.splitlines()
                if line.startswith(f"| {bench} | `{key}` |")
            ]
            assert ("yes" if t["met"] else "**no**") in row, row
    assert "## The answer, from this run" in text


def test_the_committed_report_is_the_rendered_one() -> None:
    assert REPORT.read_text() == render(load()) + "\n"


def test_every_chart_is_drawn_and_linked(tmp_path: Path) -> None:
    results = load()
    drawn = charts.draw(results, tmp_path)
    assert {p.stem for p in drawn} == set(charts.available(results))
    assert {"stages", "throughput", "fairness", "fanout", "retrieval", "cost"} <= {
        p.stem for p in drawn
    }
    for path in drawn:
        assert path.read_bytes()[:8] == PNG and path.stat().st_size > 5_000
    linked = re.findall(r"!\[[^]]*\]\((feasibility/[\w.]+\.png)\)", render(results))
    assert sorted(linked) == sorted(f"feasibility/{p.name}" for p in drawn)
    for link in linked:  # committed next to the report
        assert (REPORT.parent / link).read_bytes()[:8] == PNG


def test_the_split_run_is_a_row_per_shape_beside_one_backend() -> None:
    def run(p95: float, cpu: float) -> dict[str, float]:
        return {
            "p50_ms": p95 / 2,
            "p95_ms": p95,
            "p99_ms": p95,
            "backend_cpu_ms_per_delivery": cpu,
        }

    sockets = {
        "params": {"tabs": 1000},
        "runs": {"/alerts": {"1000": run(240.0, 0.8)}},
        "split": {
            "backends": 2,
            "page": "/alerts",
            "runs": {"sticky": run(120.0, 0.8), "redis_state": run(500.0, 4.0)},
        },
    }
    text = "\n".join(split_section(sockets))
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert [r.split(" | ")[2] for r in rows] == ["240", "120", "500"]
    assert "5.0x the CPU" in text
    assert split_section({**sockets, "split": None}) == []


def test_a_smaller_number_of_tabs_that_missed_is_named_beside_the_largest() -> None:
    def run(p95: float) -> dict[str, float]:
        return {"p95_ms": p95}

    sockets = {
        "runs": {
            "/": {"200": run(180.0), "1000": run(170.0), "2000": run(240.0)},
            "/alerts": {"200": run(280.0), "1000": run(234.0), "2000": run(260.0)},
        },
        "held_by_page": {"/": [200, 1000, 2000], "/alerts": [1000]},
    }
    assert missed_below(sockets, "/") == ""
    assert (
        missed_below(sockets, "/alerts") == ", though not 200 (p95 280 ms) in this run"
    )
    # Results written before the bench recorded which sizes held.
    assert missed_below({**sockets, "held_by_page": None}, "/alerts") == ""


def test_the_fairness_section_says_how_few_messages_each_p95_is_taken_from() -> None:
    said = " ".join(fairness_samples({"quiet_messages": [14, 15, 13]}))
    assert "14 alone, 15 with the flood, 13 with the bursts" in said
    assert "The p95 of 13 messages is their second largest" in said
    said = " ".join(fairness_samples({"quiet_messages": [5, 6, 7]}))
    assert "The p95 of 5 messages is their largest" in said
    said = " ".join(fairness_samples({"quiet_messages": [200, 210, 220]}))
    assert "The p95 of 200 messages is their 11th largest" in said
    # Results written before the bench counted them.
    assert fairness_samples({}) == []


def test_the_fairness_section_separates_the_wait_to_be_submitted() -> None:
    fa = {
        "quiet_p95_alone_from_submit_ms": 62.5,
        "quiet_p95_with_burst_from_submit_ms": 91.5,
        "burst_ratio_from_submit": 1.46,
    }
    said = " ".join(burst_from_submit(fa))
    assert "62.5 ms alone and 91.5 ms with the bursts (ratio 1.46)" in said
    assert "TENANT_SUBMIT_CONCURRENCY" in said and "MESSAGE_RATE_PER_MINUTE" in said
    # Results written before the bench measured from the submit.
    assert burst_from_submit({}) == []


def test_the_turn_section_says_what_accepting_a_message_costs() -> None:
    t = {
        "submit_cpu_ms": {"p50_ms": 4.31},
        "submit_sql_statements": 4.7,
        "submit_redis_commands": 3.0,
    }
    said = " ".join(submit_cost(t))
    assert "4.3 ms of CPU p50, 4.7 SQL statements" in said
    assert "3.0 Redis commands" in said
    # Results written before the bench measured the submit.
    assert submit_cost({}) == []


def test_the_cpu_calibration_times_the_work_in_cpu_time() -> None:
    def four_times() -> None:
        for _ in range(4):
            calibration_work()

    # Four times the work, not twice: this host's speed swings up to twofold
    # between seconds, which must not turn the comparison round.
    once = cpu_calibration_ms(runs=5, pause_s=0.0)
    assert 0 < once < cpu_calibration_ms(runs=5, pause_s=0.0, work=four_times)
    # Waiting is not work: a sleeping workload costs next to no CPU time.
    assert cpu_calibration_ms(runs=3, pause_s=0.0, work=lambda: time.sleep(0.05)) < 5


def test_the_conditions_show_the_calibration_of_each_result() -> None:
    m = {"at": "2026-12-07T23:00:00Z", "cores": 2, "cpu_calibration_ms": 9.24}
    assert machine_line("pipeline", m).endswith("| 9.2 |")
    # Results written before the bench calibrated.
    assert machine_line("pipeline", {}).endswith("| – |")
