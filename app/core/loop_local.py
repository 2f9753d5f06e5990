"""One object per running event loop.

Objects that hold asyncio primitives or tasks (the live hub, the embedding batcher,
turn priority, the memory backfill) belong to the loop that made them: the app runs
one loop, the tests one per test. Each is made on first use in a loop and dropped
with it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LoopLocal(Generic[T]):
    """`get()` returns the running loop's T, made by `factory` on first use."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None:
            value = self._values[loop] = self._factory()
        return value

    def peek(self) -> T | None:
        """The running loop's T if one was made, without making it."""
        return self._values.get(asyncio.get_running_loop())
