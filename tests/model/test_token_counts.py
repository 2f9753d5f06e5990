"""The offline model's usage is counted with a real tokenizer, and the per-message
cache (agents/provider.py) must give litellm.token_counter's very figures."""

from __future__ import annotations

import random

import litellm

from agents.provider import TOKENIZER_MODEL, count_prompt_tokens, count_text_tokens

WORDS = [
    "the",
    "fryer",
    "is",
    "broken",
    "café",
    "Müller",
    "12:30",
    "{json}",
    "✓",
    "tomorrow",
    "at",
    "9",
    "please",
    "tell",
    "@kitchen",
    "about",
    "unit",
    "4B",
    "—",
    "résumé",
    "\n\n",
    "-",
    "bullet",
]


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def test_cached_counts_equal_litellm_counts_for_varied_prompts() -> None:
    rng = random.Random(20261128)
    for _ in range(60):
        messages = [{"role": "system", "content": _text(rng, rng.randint(1, 900))}]
        for i in range(rng.randint(0, 6)):
            role = "user" if i % 2 == 0 else "assistant"
            messages.append({"role": role, "content": _text(rng, rng.randint(0, 80))})
        want = int(litellm.token_counter(model=TOKENIZER_MODEL, messages=messages))
        # Twice: the second count comes from the cache.
        assert count_prompt_tokens(messages) == max(1, want)
        assert count_prompt_tokens(messages) == max(1, want)
        reply = _text(rng, rng.randint(1, 60))
        want_reply = litellm.token_counter(
            model=TOKENIZER_MODEL, text=reply, count_response_tokens=True
        )
        assert count_text_tokens(reply) == max(1, int(want_reply))


def test_messages_with_other_fields_are_counted_by_litellm_directly() -> None:
    messages = [
        {"role": "user", "content": "hello", "name": "ben"},
        {"role": "assistant", "content": None},
    ]
    want = int(litellm.token_counter(model=TOKENIZER_MODEL, messages=messages))
    assert count_prompt_tokens(messages) == max(1, want)
