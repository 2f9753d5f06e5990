"""What the pipeline benchmark's senders say: templates with slots, so messages vary
the way real ones do.

A benchmark that sends the same dozen sentences measures a warm cache, not a turn:
the worker keeps the vectors of recently embedded texts (agents/local_embedding.py),
so a repeated sentence skips the embedding model, which is the largest single CPU
cost of a real turn. Each sender's templates expand to hundreds of sentences (about
19,000 in all, with openers and closers) and `Phrasings.next` draws from them at
random: in a run across 20 tenants about 4% of messages find their text still in
the cache, and the offline model is asked the same things in other words.
"""

from __future__ import annotations

import itertools
import random
import re
import zlib

# origin tenant slug -> sender handle -> templates; {slot} names a list in SLOTS.
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "harbor-bistro": {
        "luis": [
            "Heads up, the {supply} delivery is arriving {day} at {morning}.",
            "The {supply} delivery comes {day} at {morning}, FYI.",
        ],
        "maya": [
            "Remind the kitchen team to {kitchen_task} on {weekday} at {afternoon}.",
            "Please remind the kitchen to {kitchen_task} {weekday} at {afternoon}.",
        ],
        "sam": [
            "When does the {supply} delivery usually come?",
            "What time does the {supply} delivery normally arrive?",
            "Do you know when the {supply} order gets delivered?",
        ],
        "priya": [
            "We are out of {bar_item} at the bar.",
            "We've run out of {bar_item} behind the bar.",
            "The bar has no {bar_item} left.",
        ],
    },
    "maple-court": {
        "ben": [
            "The {fixture} in my {room} is not working.",
            "My {room} {fixture} stopped working.",
        ],
        "dana": [
            "Tell Omar the {service} is booked.",
            "Let Omar know the {service} is booked for {weekday}.",
        ],
        "grace": [
            "Finished cleaning the {area} at Maple Court.",
            "The {area} at Maple Court are done.",
        ],
        "alice": [
            "Is there anything I should know about {topic}?",
            "What are the rules for {topic} here?",
        ],
    },
    "riverside-lofts": {
        "rita": [
            "Let Ben know his {parcel} arrived at the concierge desk.",
            "Tell Ben there is a {parcel} for him at the front desk.",
        ],
        "omar": [
            "The lift at Riverside is stuck on floor {floor}.",
            "The {common_fixture} at Riverside is broken.",
        ],
        "ben": [
            "My {fixture} is broken.",
            "The {fixture} in my flat is broken.",
        ],
    },
}

SLOTS: dict[str, list[str]] = {
    "supply": ["fish", "produce", "meat", "dairy", "bread", "wine", "dry goods"],
    "day": ["tomorrow", "on Friday", "on Monday", "on Saturday", "on Wednesday"],
    "morning": ["6am", "7am", "8:30am", "10am"],
    "kitchen_task": [
        "check the fryer oil",
        "clean the hood filters",
        "defrost the walk-in freezer",
        "restock the dry store",
        "sharpen the knives",
        "deep clean the grill",
    ],
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Sunday"],
    "afternoon": ["4pm", "3pm", "2:30pm", "5pm"],
    "bar_item": [
        "limes",
        "lemons",
        "mint",
        "ice",
        "tonic water",
        "napkins",
        "straws",
        "oranges",
    ],
    "fixture": [
        "radiator",
        "heater",
        "light",
        "window lock",
        "extractor fan",
        "tap",
        "shower",
    ],
    "room": ["bedroom", "kitchen", "bathroom", "living room"],
    "service": [
        "boiler service",
        "gutter cleaning",
        "window cleaning",
        "lift inspection",
        "pest control visit",
    ],
    "area": ["hallways", "stairwells", "lobby floors", "bin stores", "laundry rooms"],
    "topic": ["trash pickup", "recycling", "parking", "the laundry room", "deliveries"],
    "parcel": ["parcel", "package", "letter", "delivery", "box"],
    "floor": [str(n) for n in range(1, 10)],
    "common_fixture": ["front door", "entry phone", "garage gate", "lobby light"],
}

# Said around any message, as people do: every sentence comes with and without them.
OPENERS = ["", "Hi, ", "Hey, ", "Hello, ", "Morning, "]
CLOSERS = ["", " Thanks.", " Thanks!", " Cheers.", " Thank you."]

_SLOT = re.compile(r"\{(\w+)\}")


def expand(template: str) -> list[str]:
    """Every sentence a template makes, one per combination of its slots, with and
    without an opener and a closer."""
    names = _SLOT.findall(template)
    sentences = [
        template.format(**dict(zip(names, values, strict=True)))
        for values in itertools.product(*(SLOTS[n] for n in names))
    ]
    return [
        f"{opener}{_after_opener(s) if opener else s}{closer}"
        for s in sentences
        for opener in OPENERS
        for closer in CLOSERS
    ]


def _after_opener(sentence: str) -> str:
    # "Hi, the lift..." but "Hi, I..." and "Hi, Omar..." (names keep their capital).
    first = sentence.split(" ", 1)[0]
    keep = first == "I" or first in ("Omar", "Ben")
    return sentence if keep else sentence[0].lower() + sentence[1:]


class Phrasings:
    """A sender's sentences, drawn at random, seeded by `key` (the same sender
    sends the same mix in every run)."""

    def __init__(self, templates: list[str], key: str) -> None:
        self.texts = [t for template in templates for t in expand(template)]
        self._random = random.Random(zlib.crc32(key.encode()))

    def next(self) -> str:
        return self._random.choice(self.texts)


def for_tenant(origin: str) -> dict[str, list[str]]:
    """The templates of the demo organisation `origin`, by sender handle."""
    return TEMPLATES.get(origin, {})
