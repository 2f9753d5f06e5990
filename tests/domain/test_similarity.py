"""Which report titles are the same problem (linking a second report to its task)."""

from __future__ import annotations

import pytest

from app.domain.similarity import same_problem

SAME = [
    ("Kitchen sink leaking under the cabinet", "The sink in the kitchen is leaking"),
    ("Kitchen sink leaking in 4B", "Sink leaking in 4B"),
    ("Heating not working", "heating is still not working!"),
]
DIFFERENT = [
    ("Bathroom sink leaking", "Kitchen sink leaking"),
    ("Kitchen sink leaking", "Hallway light broken"),
    ("", "Sink leaking"),
    ("!!!", "the a an"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_problem(a: str, b: str) -> None:
    assert same_problem(a, b) and same_problem(b, a)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_problems(a: str, b: str) -> None:
    assert not same_problem(a, b) and not same_problem(b, a)
