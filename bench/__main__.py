"""`make bench`: every benchmark, bounded (about 10 minutes on 2 cores), each in
its own process and throwaway stack; results in bench/results/*.json.

    python -m bench              # all, at the default (small, bounded) sizes
    python -m bench fanout retrieval   # some

`make report` runs this, then `python -m bench.report` (docs/feasibility.md). The
full targets on a quiet machine: see the command in each module's docstring.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# Bounded defaults: what a shared 2-core machine runs in minutes.
BENCHES = {
    # One at a time and the fairness phases are few messages each: enough of them
    # that a p50 and a p95 rest on more than a handful (40 one at a time, about 28
    # quiet messages per fairness phase).
    "pipeline": ["--rates", "10,50,100", "--seconds", "5", "--drain", "10"]
    + ["--serial", "40", "--fair-rate", "0.05", "--fair-seconds", "30"],
    "turn_cpu": ["--turns", "300"],
    "slow_model": ["--rates", "20,70", "--seconds", "5", "--burst", "150"],
    "fanout": ["--tabs", "200,1000,2000,5000"],
    "fanout_sockets": ["--tabs", "200,1000,2000", "--split", "2"],
    "retrieval": ["--rows", "20000"],
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHES)
    unknown = [b for b in chosen if b not in BENCHES]
    if unknown:
        print(f"unknown bench {unknown}; choose from {list(BENCHES)}")
        return 2
    failed = []
    for name in chosen:
        print(f"\n== bench.{name}", flush=True)
        cmd = [sys.executable, "-m", f"bench.{name}", *BENCHES[name]]
        if subprocess.run(cmd, cwd=PROJECT).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
