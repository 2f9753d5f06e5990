"""The text form of a vector sent to pgvector: every dimension, 7 significant
digits, and nothing of the wrong length."""

from __future__ import annotations

import numpy as np
import pytest

from agents.retrieval import vector_literal
from app.domain.models import EMBEDDING_DIM


def test_every_dimension_with_seven_significant_digits() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(0, 0.05, EMBEDDING_DIM).astype(np.float32)
    text = vector_literal([float(x) for x in values])
    assert text.startswith("[") and text.endswith("]")
    parts = text[1:-1].split(",")
    assert len(parts) == EMBEDDING_DIM
    assert parts == [f"{float(x):.7g}" for x in values]
    # Within a millionth of each value: far below what moves a cosine ranking.
    assert np.allclose(np.array(parts, dtype=np.float64), values, rtol=1e-6, atol=0)


def test_numpy_values_and_extremes_format_as_plain_numbers() -> None:
    values = np.zeros(EMBEDDING_DIM, dtype=np.float32)
    values[:3] = [1e-30, -1.0, 3.4e38]
    parts = vector_literal(list(values))[1:-1].split(",")
    assert parts[:4] == ["1e-30", "-1", "3.4e+38", "0"]


@pytest.mark.parametrize("n", [0, EMBEDDING_DIM - 1, EMBEDDING_DIM + 1])
def test_wrong_length_is_refused(n: int) -> None:
    with pytest.raises(ValueError, match="dimensions"):
        vector_literal([0.0] * n)
