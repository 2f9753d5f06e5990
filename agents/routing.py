"""Which team handles a problem, by what the team is for rather than its name.

A problem gets a purpose ("repairs", "cleaning", ...) from the kind of thing it
names; each of the tenant's teams gets the purpose its name is closest to, in the
MiniLM embedding space ("Facilities", "Building services" and "Maintenance" all
land on repairs; "Housekeeping" and "Cleaning Crew" on cleaning). Services a
property lists with their team are stronger evidence still: a message naming
"hallway cleaning" goes to the team that does it. Used by the offline model only.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np

from agents.local_embedding import encode_local

# What each purpose covers, as a team's name might say it.
PURPOSES: dict[str, str] = {
    "repairs": "maintenance, repairs, facilities, building services, estates, "
    "handyman, engineering, caretaker, technicians, property services, "
    "grounds, plumbing",
    "cleaning": "cleaning crew, cleaners, housekeeping, janitorial, custodians",
    "kitchen": "kitchen, chefs, cooks, back of house",
    "service": "front of house, floor staff, waiters, bar staff, reception, "
    "front desk, concierge",
    "management": "management, managers, office, administration",
}
# The kind of problem each purpose takes (words in the message).
_PROBLEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "cleaning",
        re.compile(
            r"\b(dirty|filthy|clean\w*|trash|rubbish|garbage|litter\w*|spill\w*|"
            r"stain\w*|smell\w*|stink\w*|bins?|mess\w*|dog mess|vomit|sticky|dust\w*|"
            r"mop\w*|sweep|hoover\w*|vacuum\w*|fly-?tipp\w*|dumped)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "repairs",
        re.compile(
            r"\b(leak\w*|drip\w*|broken|break\w*|broke|fix|repair\w*|water|sink|tap|"
            r"toilet|heat\w*|boiler|radiator|light\w*|bulb|door|lock\w*|window|"
            r"ceiling|wall|floor|flood\w*|pouring|burst|mou?ld|damp|power|electric\w*|"
            r"socket|gas|elevator|lift|stuck|jammed|not working|doesn't work|"
            r"won't|wont|isn't working|stopped|smoke|fire|pipe\w*|intercom|buzz\w*|"
            r"doorbell|entry ?phone|fob|gate|barrier|alarm|fan|extractor|shower|"
            r"bath\w*|drain\w*|block\w*|crack\w*|handle|hinge|tripp\w*|fuse|"
            r"wi-?fi|internet|aerial|meter|pressure|hot water|cold|mice|rats?|pests?|"
            r"cockroach\w*|appliance|oven|hob|fridge|freezer|washing machine|"
            r"dishwasher|boiler|bang\w*|rattl\w*|grind\w*|squeak\w*)\b",
            re.IGNORECASE,
        ),
    ),
)
MIN_TEAM_SIMILARITY = 0.45
# Danger to people or the building: the repairs team, whatever else it names.
EMERGENCY = re.compile(
    r"\b(flood\w*|fire|smoke|gas|no heat(ing)?|burst|pouring|sparks?|"
    r"carbon monoxide|emergency|electrocut\w*)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def _purpose_vectors() -> tuple[list[str], np.ndarray]:
    """One vector per synonym, labelled with its purpose."""
    labels: list[str] = []
    words: list[str] = []
    for purpose, synonyms in PURPOSES.items():
        for word in synonyms.split(","):
            labels.append(purpose)
            words.append(word.strip())
    return labels, np.asarray(encode_local(words))


@functools.lru_cache(maxsize=512)
def team_purpose(team_name: str) -> tuple[str, float]:
    """The purpose whose closest synonym is closest to the team's name."""
    labels, vectors = _purpose_vectors()
    v = np.asarray(encode_local([team_name])[0])
    sims = vectors @ v
    best = int(sims.argmax())
    return labels[best], float(sims[best])


# For problems whose words the patterns miss (typos, unusual words): the closest
# of these, in the embedding space, if it is close enough.
_PROBLEM_EXAMPLES = {
    "repairs": (
        "something in my flat is broken and needs repairing",
        "the heating or hot water is not working",
        "a leak or a drip from a pipe or tap",
        "an appliance is making a strange noise",
        "the door, lock or window is stuck",
        "the lights or electrics have failed",
    ),
    "cleaning": (
        "the common areas are dirty and need cleaning",
        "rubbish or litter has been left in the hallway",
        "there is a spill or a stain on the floor",
        "it smells bad in the stairwell",
    ),
}
MIN_PROBLEM_SIMILARITY = 0.35


@functools.lru_cache(maxsize=1)
def _problem_vectors() -> tuple[list[str], np.ndarray]:
    labels = [p for p, examples in _PROBLEM_EXAMPLES.items() for _ in examples]
    texts = [t for examples in _PROBLEM_EXAMPLES.values() for t in examples]
    return labels, np.asarray(encode_local(texts))


def problem_purpose(text: str) -> str | None:
    """What kind of team a problem needs, from the things it names."""
    for purpose, pattern in _PROBLEMS:
        if pattern.search(text):
            return purpose
    labels, vectors = _problem_vectors()
    sims = vectors @ np.asarray(encode_local([text])[0])
    best = int(sims.argmax())
    return labels[best] if sims[best] >= MIN_PROBLEM_SIMILARITY else None


def team_for(text: str, teams: list[dict[str, Any]], purpose: str) -> str | None:
    """The ref of the tenant's team for `purpose`, if one is for it."""
    best: tuple[float, str] | None = None
    for team in teams:
        found, similarity = team_purpose(str(team.get("name") or team["ref"]))
        fits = found == purpose and similarity >= MIN_TEAM_SIMILARITY
        if fits and (best is None or similarity > best[0]):
            best = (similarity, str(team["ref"]))
    return best[1] if best else None


def responsible_team(
    text: str, teams: list[dict[str, Any]], properties: list[dict[str, Any]]
) -> str | None:
    """The team that should act on a problem report, or None if none fits."""
    lowered = text.lower()
    for prop in properties:
        for service in prop.get("services") or []:
            team = service.get("team")
            if team and service["name"].lower() in lowered:
                ref = f"team:{team}"
                if any(t["ref"] == ref for t in teams):
                    return ref
    purpose = "repairs" if EMERGENCY.search(text) else problem_purpose(text)
    if purpose is None:
        return None
    return team_for(text, teams, purpose) or (
        team_for(text, teams, "repairs") if purpose == "cleaning" else None
    )
