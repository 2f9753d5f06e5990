"""MiniLM on ONNX Runtime must give the vectors sentence-transformers gives (stored
memories were embedded by either), keep its exported graph for the next process,
and fall back to PyTorch rather than stop embedding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents import local_embedding, onnx_minilm
from app.core.settings import get_settings

# Lengths from nothing to past the 256-token truncation, other scripts, padding.
TEXTS = [
    "",
    "   ",
    "ok",
    "Can someone fix the walk-in cooler before the dinner rush?",
    "  leading and trailing spaces  ",
    "Überprüfe bitte die Spülmaschine in Wohnung 4B — sie leckt.",
    "厨房的冰箱坏了，请尽快派人来修理。",
    "¿Quién cierra hoy? 🍕🔥",
    "UPPER CASE AND lower case AND MiXeD",
    "unit 12, 3rd floor: heater off since 06:30; tenant asks for a visit " * 30,
    "\n".join(f"line {i}: restock item {i}" for i in range(60)),
]


@pytest.fixture(scope="module")
def reference() -> Any:
    return local_embedding._torch_model()


@pytest.fixture(scope="module")
def graph(reference: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("graph") / "minilm.onnx"
    onnx_minilm.export_graph(reference, path)
    return path


@pytest.fixture
def fresh_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty model cache and no encoder loaded yet in this process."""
    monkeypatch.setenv("SWITCHBOARD_CACHE", str(tmp_path))
    monkeypatch.setattr(local_embedding, "_model", None)
    monkeypatch.setattr(local_embedding, "_cache", type(local_embedding._cache)())
    yield tmp_path
    get_settings.cache_clear()


def test_onnx_vectors_match_sentence_transformers(reference: Any, graph: Path) -> None:
    encoder = onnx_minilm.OnnxMiniLM(graph, threads=1)
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    together = encoder.encode(TEXTS)  # padded to the longest
    one_by_one = np.vstack([encoder.encode([t]) for t in TEXTS])
    assert together.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(together, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_the_graph_is_exported_once_and_kept(
    fresh_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = local_embedding.encode_local(["the freezer alarm went off"])
    kept = onnx_minilm.graph_path()
    assert kept.parent == fresh_model / "switchboard" and kept.exists()
    assert [p.name for p in kept.parent.iterdir()] == [kept.name]  # no temp files

    def no_export(*_: Any) -> None:
        raise AssertionError("the kept graph was exported again")

    # The next process loads the kept graph.
    monkeypatch.setattr(onnx_minilm, "export_graph", no_export)
    monkeypatch.setattr(local_embedding, "_model", None)
    monkeypatch.setattr(local_embedding, "_cache", type(local_embedding._cache)())
    again = local_embedding.encode_local(["the freezer alarm went off"])
    assert isinstance(local_embedding._model, onnx_minilm.OnnxMiniLM)
    np.testing.assert_allclose(again, first, atol=1e-6)


def test_a_damaged_graph_is_exported_again(fresh_model: Path) -> None:
    kept = onnx_minilm.graph_path()
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"half a graph")
    local_embedding.encode_local(["hello"])
    assert isinstance(local_embedding._model, onnx_minilm.OnnxMiniLM)
    assert kept.stat().st_size > 1_000_000


def test_a_graph_that_disagrees_with_the_model_is_not_kept(
    reference: Any, tmp_path: Path
) -> None:
    class Shifted:
        """The model's transformer, but other vectors."""

        def __getitem__(self, i: int) -> Any:
            return reference[i]

        @property
        def tokenizer(self) -> Any:
            return reference.tokenizer

        def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
            vectors: np.ndarray = reference.encode(texts, **kwargs)
            return np.roll(vectors, 1, axis=1)

    target = tmp_path / "minilm.onnx"
    with pytest.raises(ValueError, match="differs"):
        onnx_minilm.export_graph(Shifted(), target)
    assert list(tmp_path.iterdir()) == []


def test_without_a_usable_cache_it_runs_on_pytorch(
    fresh_model: Path,
    reference: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A cache "directory" beneath a file: nothing can be written, even by root.
    (fresh_model / "a-file").write_text("")
    monkeypatch.setenv("SWITCHBOARD_CACHE", str(fresh_model / "a-file"))
    vector = local_embedding.encode_local(["the dishwasher leaks"])
    assert type(local_embedding._model).__name__ == "SentenceTransformer"
    assert "using PyTorch" in caplog.text
    expected = reference.encode(["the dishwasher leaks"], normalize_embeddings=True)
    np.testing.assert_allclose(vector, expected, atol=1e-6)


def test_embedding_runtime_torch_uses_sentence_transformers(
    fresh_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDDING_RUNTIME", "torch")
    get_settings.cache_clear()
    local_embedding.encode_local(["hello"])
    assert type(local_embedding._model).__name__ == "SentenceTransformer"
    assert not (fresh_model / "switchboard").exists()
