"""A greeting in front and thanks at the end change nothing: the built-in model
does for "Hi, ... Thanks!" what it does for the bare message, and neither ends up
in a title or hides a question mark."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from agents import cues
from tests.agents.test_offline_model import ask

OPENERS = ["", "Hi, ", "Hello ", "Hey team, ", "Good morning! "]
# A closer that starts with a space is a sentence of its own, after the message's
# full stop; one with a comma hangs on the message.
CLOSERS = ["", " Thanks.", " Thank you!", ", cheers", " Many thanks", " Regards"]

# (tenant, sender, message): one of each kind of turn.
BARE = [
    ("maple-court", "ben", "The radiator in my bedroom is not working."),
    ("maple-court", "ben", "Is there anything I should know about trash pickup?"),
    ("maple-court", "dana", "Tell Omar the boiler service is booked."),
    ("maple-court", "grace", "Finished cleaning the hallways at Maple Court."),
    (
        "harbor-bistro",
        "maya",
        "Remind the kitchen team to check the fryer oil on Friday at 4pm.",
    ),
    ("harbor-bistro", "priya", "We are out of limes at the bar."),
    ("harbor-bistro", "sam", "When does the produce delivery usually come?"),
    (
        "riverside-lofts",
        "rita",
        "Let Ben know his parcel arrived at the concierge desk.",
    ),
]


def _shape(out: dict[str, Any]) -> list[tuple[str, Any]]:
    """What was done, without the wording of free-text fields the sender wrote."""
    return [
        (a["type"], a.get("recipients") or a.get("audience") or a.get("assignee"))
        for a in out["actions"]
    ]


@pytest.mark.parametrize(("tenant", "handle", "text"), BARE)
def test_courtesies_change_nothing_that_is_done(
    tenant: str, handle: str, text: str
) -> None:
    bare = ask(tenant, handle, text)
    for opener, closer in itertools.product(OPENERS, CLOSERS):
        said = f"{opener}{text[0].lower() if opener else text[0]}{text[1:]}"
        if closer.startswith(","):
            said = said.rstrip(".?") + closer
        elif closer:
            said = said if said[-1] in ".?!" else said + "."
            said += closer
        polite = ask(tenant, handle, said)
        assert _shape(polite) == _shape(bare), said
        for action in polite["actions"]:
            title = str(action.get("title", ""))
            assert not any(
                w in title.lower() for w in ("thank", "cheers", "regards", "hi,")
            ), (said, title)


@pytest.mark.parametrize(
    ("text", "core"),
    [
        ("Hello, is the lift fixed? Thank you.", "is the lift fixed?"),
        ("Hi, the fish comes at 10am, FYI. Cheers.", "the fish comes at 10am"),
        ("Hey the fridge is broken", "the fridge is broken"),
        ("Good morning team! Out of limes. Thanks in advance", "Out of limes."),
        ("Morning, the lift is stuck.", "the lift is stuck."),
        # Not courtesies: a word that only looks like one, and nothing else said.
        ("Morning shift is short today", "Morning shift is short today"),
        ("Hiring a plumber tomorrow", "Hiring a plumber tomorrow"),
        ("It works best", "It works best"),
        ("Tell Omar thanks", "Tell Omar thanks"),
        ("Thanks!", "Thanks!"),
        ("hi", "hi"),
    ],
)
def test_without_courtesies(text: str, core: str) -> None:
    assert cues.without_courtesies(text) == core


def test_a_question_behind_a_thank_you_is_still_a_question() -> None:
    out = ask(
        "maple-court",
        "alice",
        "Hello, is there anything I should know about the laundry room? Thank you.",
    )
    assert out["actions"] == []
