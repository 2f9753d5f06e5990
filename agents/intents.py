"""The built-in model's intent classifier: what a message asks for.

A multinomial logistic regression over the MiniLM sentence embeddings the project
already loads (agents/local_embedding.py), trained from the labelled phrasings in
agents/training/intents.yaml, the way Rasa's NLU pipeline classifies intents.
Its probabilities are calibrated with one temperature fitted on cross-validated
predictions of the training set, so "0.6" means right about six times in ten.
The held-out split (agents/training/heldout.yaml) is never trained on:

    python -m agents.intents        # accuracy per intent on the held-out split

Training takes about a second once the examples are embedded; the embeddings and
the fit are cached on disk by the hash of the training file, so a new process pays
only for loading. Predicting one message is one MiniLM encode (~10 ms on 2 cores).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agents.disk_cache import cache_dir, save_atomically
from agents.local_embedding import encode_local

TRAINING_DIR = Path(__file__).resolve().parent / "training"
TRAIN_FILE = TRAINING_DIR / "intents.yaml"
HELDOUT_FILE = TRAINING_DIR / "heldout.yaml"
# Intents that ask for something to happen (the rest want words back).
ACTION_INTENTS = frozenset(
    {
        "relay",
        "remind",
        "report",
        "permission",
        "log_service",
        "cancel_service",
        "purchase",
    }
)


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    scores: dict[str, float]

    def second(self) -> tuple[str, float]:
        ranked = sorted(self.scores.items(), key=lambda kv: kv[1], reverse=True)
        return ranked[1] if len(ranked) > 1 else ("", 0.0)


def load_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from a training YAML (intent: [phrasings])."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(str(t), str(intent)) for intent, texts in data.items() for t in texts]


def _embed_cached(texts: list[str], key: str) -> np.ndarray:
    path = cache_dir() / f"intent-embeddings-{key}.npy"
    try:
        cached: np.ndarray = np.load(path)
        if cached.shape[0] == len(texts):
            return cached
    except (OSError, ValueError):
        pass
    vectors = np.asarray(encode_local(texts), dtype=np.float32)
    # A read-only cache: train from the encode every time.
    save_atomically(path, lambda tmp: np.save(tmp, vectors))
    return vectors


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


Fit = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def _fit(x: np.ndarray, labels: np.ndarray) -> Fit:
    """Logistic regression, and one temperature for the whole model fitted on
    out-of-fold logits: the training fit itself is over-confident on the examples
    it has seen."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    model = LogisticRegression(C=8.0, max_iter=2000)
    model.fit(x, labels)
    classes = [str(c) for c in model.classes_]
    held = cross_val_predict(
        LogisticRegression(C=8.0, max_iter=2000),
        x,
        labels,
        cv=5,
        method="decision_function",
    )
    truth = np.array([classes.index(str(label)) for label in labels])
    best_t, best_nll = 1.0, float("inf")
    for t in np.linspace(0.3, 3.0, 28):
        probs = _softmax(held / t)
        nll = float(-np.log(probs[np.arange(len(truth)), truth] + 1e-9).mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return (
        np.asarray(model.coef_, dtype=np.float64),
        np.asarray(model.intercept_, dtype=np.float64),
        np.asarray(classes),
        best_t,
    )


def _fit_path(key: str) -> Path:
    import sklearn

    # The fit is cached like the embeddings: six solver runs take a second on a
    # quiet machine and over a minute on a loaded one, in every new worker.
    return cache_dir() / f"intent-fit-{key}-sklearn{sklearn.__version__}.npz"


def _load_fit(key: str) -> Fit | None:
    try:
        with np.load(_fit_path(key), allow_pickle=False) as f:
            return (
                f["coef"],
                f["intercept"],
                f["classes"],
                float(f["temperature"]),
            )
    except (OSError, ValueError, KeyError):
        return None


def _save_fit(key: str, fit: Fit) -> None:
    coef, intercept, classes, temperature = fit
    # A read-only cache: fit again in the next process.
    save_atomically(
        _fit_path(key),
        lambda tmp: np.savez(
            tmp,
            coef=coef,
            intercept=intercept,
            classes=classes,
            temperature=np.float64(temperature),
        ),
    )


class IntentClassifier:
    """Logistic regression + a calibration temperature."""

    def __init__(self, examples: list[tuple[str, str]]) -> None:
        texts = [t for t, _ in examples]
        labels = np.array([label for _, label in examples])
        joined = "\n".join(f"{label}\t{text}" for text, label in examples)
        key = hashlib.sha256(joined.encode()).hexdigest()[:16]
        fitted = _load_fit(key)
        if fitted is None:
            fitted = _fit(_embed_cached(texts, key), labels)
            _save_fit(key, fitted)
        self.coef, self.intercept, classes, self.temperature = fitted
        self.labels: list[str] = [str(c) for c in classes]

    def predict_many(self, texts: list[str]) -> list[Prediction]:
        x = np.asarray(encode_local(texts), dtype=np.float32)
        # LogisticRegression.decision_function for several classes.
        logits = x @ self.coef.T + self.intercept
        probs = _softmax(logits / self.temperature)
        out = []
        for row in probs:
            best = int(row.argmax())
            scores = {
                label: float(p) for label, p in zip(self.labels, row, strict=True)
            }
            out.append(Prediction(self.labels[best], float(row[best]), scores))
        return out

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]


_classifier: IntentClassifier | None = None
_lock = threading.Lock()


def classifier() -> IntentClassifier:
    """The classifier trained from the shipped set, once per process."""
    global _classifier
    if _classifier is None:
        with _lock:
            if _classifier is None:
                _classifier = IntentClassifier(load_examples(TRAIN_FILE))
    return _classifier


def classify(text: str) -> Prediction:
    return classifier().predict(text)


def evaluate(path: Path = HELDOUT_FILE) -> dict[str, Any]:
    """Accuracy per intent, overall accuracy and calibration on a labelled file."""
    examples = load_examples(path)
    preds = classifier().predict_many([t for t, _ in examples])
    per: dict[str, list[int]] = {}
    misses: list[tuple[str, str, str, float]] = []
    bins: dict[int, list[tuple[float, int]]] = {}
    for (text, want), p in zip(examples, preds, strict=True):
        ok = int(p.intent == want)
        per.setdefault(want, []).append(ok)
        bins.setdefault(min(int(p.confidence * 5), 4), []).append((p.confidence, ok))
        if not ok:
            misses.append((text, want, p.intent, p.confidence))
    total = sum(sum(v) for v in per.values()) / max(1, len(examples))
    # Expected calibration error over five confidence bins.
    ece = sum(
        len(b)
        / len(examples)
        * abs(np.mean([c for c, _ in b]) - np.mean([o for _, o in b]))
        for b in bins.values()
    )
    return {
        "accuracy": total,
        "per_intent": {k: sum(v) / len(v) for k, v in sorted(per.items())},
        "counts": {k: len(v) for k, v in sorted(per.items())},
        "ece": float(ece),
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.intents")
    parser.add_argument("file", nargs="?", default=str(HELDOUT_FILE))
    args = parser.parse_args(argv)
    report = evaluate(Path(args.file))
    train = load_examples(TRAIN_FILE)
    print(f"training examples: {len(train)}; held-out file: {args.file}")
    print(f"{'intent':<16}{'n':>4}{'accuracy':>10}")
    for intent, acc in report["per_intent"].items():
        print(f"{intent:<16}{report['counts'][intent]:>4}{acc:>10.0%}")
    print(
        f"{'overall':<16}{sum(report['counts'].values()):>4}{report['accuracy']:>10.0%}"
    )
    print(f"calibration error (ECE): {report['ece']:.3f}")
    for text, want, got, conf in report["misses"]:
        print(f"  miss: {text!r}: {want} → {got} ({conf:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
