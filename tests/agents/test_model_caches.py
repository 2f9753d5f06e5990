"""What a turn must not pay for again: a text's MiniLM vector (the query embedding,
the intent classifier and problem routing all encode the same message), and the
intent classifier's fit (every new worker process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from agents import intents, local_embedding
from agents.onnx_minilm import OnnxMiniLM
from app.core.settings import get_settings


class FakeModel:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        self.batches.append(list(texts))
        return np.array([[len(t), t.count("a"), 1.0] for t in texts])


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> FakeModel:
    model = FakeModel()
    monkeypatch.setattr(local_embedding, "_load_model", lambda: model)
    monkeypatch.setattr(local_embedding, "_cache", type(local_embedding._cache)())
    return model


def test_encode_local_encodes_each_recent_text_once(fake_model: FakeModel) -> None:
    first = local_embedding.encode_local(["a cat", "a banana"])
    again = local_embedding.encode_local(["a banana", "dog", "a cat", "dog"])
    # Only the new text went through the model, once although asked twice.
    assert fake_model.batches == [["a cat", "a banana"], ["dog"]]
    assert again == [first[1], [3.0, 0.0, 1.0], first[0], [3.0, 0.0, 1.0]]
    again[0].append(99.0)  # a caller's list is its own
    assert local_embedding.encode_local(["a banana"]) == [first[1]]


def test_encode_local_keeps_only_the_most_recent_texts(
    fake_model: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_embedding, "CACHE_SIZE", 2)
    local_embedding.encode_local(["one"])
    local_embedding.encode_local(["two"])
    local_embedding.encode_local(["one"])  # used again: now the most recent
    local_embedding.encode_local(["three"])  # pushes out "two"
    local_embedding.encode_local(["one", "two"])
    assert fake_model.batches == [["one"], ["two"], ["three"], ["two"]]


def _examples() -> list[tuple[str, str]]:
    words = {"remind": "remind", "relay": "tell", "question": "when"}
    return [
        (f"{word} number {i} {'x' * i}", intent)
        for intent, word in words.items()
        for i in range(6)
    ]


def _vectors(texts: list[str]) -> list[list[float]]:
    return [
        [float("remind" in t), float("tell" in t), float("when" in t), len(t) / 10]
        for t in texts
    ]


def test_the_intent_fit_is_cached_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHBOARD_CACHE", str(tmp_path))
    monkeypatch.setattr(intents, "encode_local", _vectors)
    fits: list[int] = []
    real_fit = intents._fit

    def counted(x: np.ndarray, labels: np.ndarray) -> intents.Fit:
        fits.append(len(labels))
        return real_fit(x, labels)

    monkeypatch.setattr(intents, "_fit", counted)
    trained = intents.IntentClassifier(_examples())
    loaded = intents.IntentClassifier(_examples())  # a new worker process
    assert fits == [18]
    assert list(tmp_path.glob("switchboard/intent-fit-*.npz"))
    for text in ("remind number 9", "tell number 2", "when number 4"):
        a, b = trained.predict(text), loaded.predict(text)
        assert a.intent == b.intent and a.scores == pytest.approx(b.scores)
    assert trained.predict("remind number 9").intent == "remind"
    # Other training data is another fit.
    intents.IntentClassifier(_examples()[:-1] + [("when number 7", "question")])
    assert fits == [18, 18]


def test_the_embedding_model_runs_on_the_configured_threads() -> None:
    # One thread per process by default (EMBEDDING_THREADS): processes, not the
    # runtime's threads, use the cores.
    model = local_embedding._load_model()
    assert isinstance(model, OnnxMiniLM)  # the default runtime
    options = model.session.get_session_options()
    assert options.intra_op_num_threads == get_settings().embedding_threads == 1
    local_embedding._torch_model()
    assert torch.get_num_threads() == 1
