"""The intent classifier, measured on the held-out split it never trains on."""

from __future__ import annotations

from agents.intents import (
    HELDOUT_FILE,
    TRAIN_FILE,
    classify,
    evaluate,
    load_examples,
)


def test_training_set_is_broad_and_apart_from_the_held_out_split() -> None:
    train = load_examples(TRAIN_FILE)
    heldout = load_examples(HELDOUT_FILE)
    per_intent: dict[str, int] = {}
    for _, intent in train:
        per_intent[intent] = per_intent.get(intent, 0) + 1
    assert min(per_intent.values()) >= 40, per_intent
    seen = {t.lower().strip(" ?!.") for t, _ in train}
    overlap = [t for t, _ in heldout if t.lower().strip(" ?!.") in seen]
    assert not overlap
    assert {i for _, i in heldout} == set(per_intent)


def test_held_out_accuracy_per_intent() -> None:
    report = evaluate()
    assert report["accuracy"] >= 0.9, report
    assert min(report["per_intent"].values()) >= 0.75, report["per_intent"]
    assert report["ece"] < 0.15  # confidence means what it says


def test_confidence_is_low_on_nonsense() -> None:
    assert classify("purple monkey dishwasher seventeen").confidence < 0.6
    assert classify("Tell Grace the lobby needs mopping").confidence > 0.6
