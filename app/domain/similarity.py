"""Whether two short problem titles describe the same problem.

Used to link a second report of an open problem to its task instead of opening a
new one. Words are compared after dropping filler and crude suffixes, so
"Kitchen sink leaking" and "the sink in the kitchen is still leaking" match while
"Bathroom sink leaking" and "Kitchen sink leaking" do not (Jaccard 0.5 < 0.6).
"""

from __future__ import annotations

import re

SAME_PROBLEM_AT = 0.6
_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "in",
        "on",
        "at",
        "of",
        "to",
        "for",
        "and",
        "or",
        "my",
        "our",
        "your",
        "their",
        "his",
        "her",
        "its",
        "it",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "there",
        "this",
        "that",
        "these",
        "those",
        "still",
        "again",
        "also",
        "very",
        "please",
        "now",
        "just",
        "some",
        "any",
        "under",
        "over",
        "from",
        "with",
        "into",
        "by",
        "not",
        "no",
    ]
)
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def key_words(title: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in _WORD.findall(title.lower()) if w not in _FILLER)


def same_problem(a: str, b: str) -> bool:
    """Jaccard similarity of the key words, at least SAME_PROBLEM_AT."""
    wa, wb = key_words(a), key_words(b)
    if not wa or not wb:
        return False
    return len(wa & wb) / len(wa | wb) >= SAME_PROBLEM_AT
