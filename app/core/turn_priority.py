"""Inside one worker, a tenant with a backlog lets other tenants' turns go first.

The fair queue (app/core/fair_queue.py) decides which turns start: a tenant with
messages waiting has at most TENANT_MAX_CONCURRENCY turns running, served in turn
with everyone else. Once started, turns share the worker's event loop evenly, so a
quiet tenant's message that arrives while a bursting tenant's two turns run takes
about three times its own CPU time. So a turn of a tenant with a backlog
(`behind`) steps aside at each stage boundary while any other turn in this process
is using the CPU (`urgent`), for at most MAX_WAIT_S each time: the burst still
runs, in the gaps. A turn waiting on a hosted model uses no CPU and does not count
(`off_cpu`): stepping aside for it would only slow the backlog down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from app.core.loop_local import LoopLocal

MAX_WAIT_S = 0.25


@dataclass
class _Share:
    """One event loop's count of turns using the CPU that others step aside for."""

    urgent: int = 0
    clear: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.clear.set()

    def enter(self) -> None:
        self.urgent += 1
        self.clear.clear()

    def leave(self) -> None:
        self.urgent -= 1
        if self.urgent == 0:
            self.clear.set()


_shares = LoopLocal(_Share)


@dataclass
class Turn:
    behind: bool
    share: _Share
    counted: bool = False

    async def step_aside(self) -> None:
        """A backlogged turn waits while others' turns use the CPU."""
        if self.behind and self.share.urgent:
            # asyncio.timeout: wait_for may swallow a cancellation (Python 3.11).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MAX_WAIT_S):
                    await self.share.clear.wait()

    @contextlib.contextmanager
    def off_cpu(self, waiting: bool = True) -> Iterator[None]:
        """While this turn waits on something remote (`waiting`), backlogged turns
        need not step aside for it."""
        if not (waiting and self.counted):
            yield
            return
        self.share.leave()
        try:
            yield
        finally:
            self.share.enter()


_current: ContextVar[Turn | None] = ContextVar("turn_priority", default=None)


@contextlib.contextmanager
def turn(behind: bool) -> Iterator[Turn]:
    """The running turn's place: `behind` when its tenant has messages waiting."""
    current = Turn(behind, _shares.get())
    if not behind:
        current.share.enter()
        current.counted = True
    token = _current.set(current)
    try:
        yield current
    finally:
        _current.reset(token)
        if current.counted:
            current.share.leave()


async def after_turns() -> None:
    """Background work (a finished turn's memory vectors) waits, like a backlogged
    turn, while turns use the CPU; what gathers meanwhile goes in a bigger batch."""
    await Turn(True, _shares.get()).step_aside()


def current() -> Turn:
    """The running turn, or an urgent one that counts for nobody (a turn run
    outside a worker job: tests, scripts)."""
    return _current.get() or Turn(False, _shares.get())
