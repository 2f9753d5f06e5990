"""The garbage collector of a Reflex backend process.

Python collects its young generation every 700 net allocations. With hundreds of
live deliveries in flight (a team notification reaching its members' open tabs),
objects still in use at those moments survive into the old generation, whose full
collections then walk the whole heap, every open tab's state included: ~330 ms
stalls of the event loop every few seconds at 1,000 tabs, each a round's slowest
deliveries (bench/fanout_sockets.py). Collecting the young generation every 50,000
allocations lets most of those objects die first (by reference count), and freezing
what startup built keeps it out of every later full collection. (The worker keeps
Python's defaults: the same change made no difference to its throughput at 50
msg/s, measured back to back with bench/pipeline.py.)
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def tune_for_server() -> None:
    """Call once startup has built what the process keeps (modules, models)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
