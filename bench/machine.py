"""What a benchmark ran on, and how busy the machine was: every result file carries
it, because a figure from a shared 2-core box is not one from a quiet server."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def calibration_work() -> int:
    """A fixed piece of pure-Python work (dict lookups, string formatting, calls),
    the kind of work a turn's own code does."""
    total = 0
    table: dict[str, int] = {}
    for i in range(60_000):
        key = f"k{i % 512}"
        table[key] = table.get(key, 0) + i
        total += len(key)
    return total + sum(table.values())


def cpu_calibration_ms(
    runs: int = 7,
    pause_s: float = 0.05,
    work: Callable[[], object] = calibration_work,
) -> float:
    """How fast this machine's cores run Python now: the median CPU time of `work`
    over `runs` runs `pause_s` apart (lower is faster). A shared host runs the same
    code at very different speeds from one minute to the next, which neither the
    load average nor the CPU model shows; CPU time, not wall time, so waiting for a
    core does not count, a slower one does."""
    took = []
    for n in range(runs):
        if n:
            time.sleep(pause_s)
        started = time.thread_time()
        work()
        took.append(time.thread_time() - started)
    return round(statistics.median(took) * 1000, 2)


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, the load average from other processes, and the
    CPU calibration, as the result is written."""
    load1, load5, _ = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "load_avg_1m": round(load1, 2),
        "load_avg_5m": round(load5, 2),
        "cpu_calibration_ms": cpu_calibration_ms(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency_summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.5), 2),
        "p95_ms": round(pct(ms, 0.95), 2),
        "p99_ms": round(pct(ms, 0.99), 2),
    }


def target(value: float, limit: float, *, at_most: bool = True) -> dict[str, Any]:
    """One entry of a result's `targets`: measured value, limit, met."""
    met = value <= limit if at_most else value >= limit
    return {
        "value": round(value, 4),
        "limit": limit,
        "op": "<=" if at_most else ">=",
        "met": met,
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    return path


def stop_on_sigterm() -> None:
    """SIGTERM (timeout, kill) unwinds like Ctrl-C, so the throwaway PostgreSQL and
    Redis are stopped instead of left running."""

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system, all threads) these processes have used; a
    process that has ended counts nothing."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def with_children(pid: int) -> list[int]:
    """A process and its descendants (a server that forks its workers)."""
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid] + [p for child in found for p in with_children(int(child))]
