"""The backend's collector settings (app/core/gc_tuning.py): a young generation
collected every 50,000 allocations, startup's objects frozen out of full passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.core.gc_tuning import YOUNG_THRESHOLD, tune_for_server


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_tuning_raises_the_young_threshold_and_freezes_startup(
    restored_gc: None,
) -> None:
    gc.unfreeze()
    _, middle, old = gc.get_threshold()
    tune_for_server()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    assert gc.get_freeze_count() > 0  # what exists now is out of full passes
