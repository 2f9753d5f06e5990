"""Every scenario file (the shipped copy and ../shared/scenarios when present)
through the real pipeline with the offline model."""

from __future__ import annotations

import io
from typing import Any

import pytest

from devtools.scenarios import default_paths, run_files


@pytest.mark.usefixtures("clean_db")
async def test_all_scenarios_pass(demo: Any) -> None:
    out = io.StringIO()
    results = await run_files(default_paths(), out=out)
    assert results, "no scenarios found"
    failed = [r for r in results if not r.passed]
    assert not failed, out.getvalue()
