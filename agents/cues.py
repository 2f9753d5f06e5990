"""Cues the intent classifier cannot be trusted with: negation, question form,
the language of the message and instructions pasted into it.

They are about the form of a sentence, not its topic, so they are rules over the
sentence's shape (where the negation stands, how the sentence starts and ends),
never over the words of one phrasing. Used by the offline model, and by retrieval
for the courtesies around a message (`without_courtesies`).
"""

from __future__ import annotations

import json
import re

_ACTION_VERBS = (
    r"cancel|call\s+off|skip|tell|notify|inform|message|text|remind|schedule|book|"
    r"order|buy|purchase|send|create|log|let|ask|alert|warn|bother|worry|"
    r"postpone|move|change|fix|repair|arrange|add|put|forward|email|ring|call|do"
)
# A negated instruction: "Don't cancel...", "please do not tell...", "no need to
# remind...", at the start of a clause. "The heating doesn't work" is a report:
# its negation is not in front of an instruction.
_NEGATED = re.compile(
    rf"(?:^|[.!;,:]\s*|\b(?:but|and|so)\s+)(?:please\s+)?"
    rf"(?:don'?t|do\s+not|dont|never|no\s+need\s+to|there'?s\s+no\s+need\s+to|"
    rf"you\s+don'?t\s+need\s+to|stop|avoid)\s+(?:\w+\s+)?(?:{_ACTION_VERBS})\b",
    re.IGNORECASE,
)
_NEVER_MIND = re.compile(
    r"^\s*(never\s*mind|forget\s+(it|that|about\s+it)|ignore\s+(that|my\s+last)|"
    r"scratch\s+that|no\s+thanks?)\b",
    re.IGNORECASE,
)
_WH_START = re.compile(
    r"^\s*(what|what's|whats|when|when's|where|where's|who|who's|whom|whose|why|"
    r"which|how|how's)\b",
    re.IGNORECASE,
)
_AUX_START = re.compile(
    r"^\s*(is|isn't|are|aren't|was|were|does|doesn't|do|did|didn't|has|hasn't|"
    r"have|haven't|will|any|anything|any\s+news|any\s+update)\b",
    re.IGNORECASE,
)
# A question that asks for something to be done: "can you...", "could someone...",
# "would you mind...", "is anyone able to...". The request is the point.
_REQUEST = re.compile(
    r"\b(can|could|would|will)\s+(you|someone|somebody|anyone|anybody|u|we|one\s+of\s+"
    r"you|maintenance|the\s+\w+\s+team)\b(?!\s+(tell\s+me|let\s+me\s+know|remind\s+me"
    r"\s+(what|when|who|where|how)))"
    r"|\b(please|pls|plz|kindly)\b|\bneeds?\s+(fixing|repair|sorting|looking\s+at)"
    r"|\b(send|get)\s+(someone|somebody|a\s+\w+)\b|\bwould\s+you\s+mind\b"
    r"|\bis\s+(anyone|someone|somebody)\s+(able|free|around)\s+to\b"
    # Asking what to do about a situation asks for help, not for information.
    r"|\bwhat\s+(do|should|shall|can|must)\s+(i|we)\s+do\b",
    re.IGNORECASE,
)


# Courtesies that frame a message without changing what it says: a greeting in
# front, a thank-you or sign-off at the end. "Hi", "hello" and "hey" are greetings
# wherever they stand first; "morning" and the like only with punctuation after them
# ("Morning shift is short" is about the shift). A closer must follow the end of a
# sentence or a comma ("it works best" keeps its last word).
_OPENING = re.compile(
    r"^\s*(?:(?:hi|hiya|hello|hey)(?:\s+(?:all|everyone|team|there))?\b[\s,:!.-]*"
    r"|(?:good\s+)?(?:morning|afternoon|evening)(?:\s+(?:all|everyone|team))?"
    r"\s*[,:!.-]+\s*)",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"(?:(?<=[.!?])\s*|\s*[,;:\u2013-]\s*)"
    r"(?:thanks(?:\s+(?:a\s+lot|so\s+much|in\s+advance))?|thank\s+you"
    r"(?:\s+(?:so|very)\s+much)?|many\s+thanks|cheers|thx|fyi|"
    r"(?:kind\s+|best\s+)?regards)\b[\s.!]*$",
    re.IGNORECASE,
)


def without_courtesies(text: str) -> str:
    """The message without the greeting in front and the thanks at the end; the
    message itself when it is nothing else ("Thanks!")."""
    core = text.strip()
    while True:
        shorter = _CLOSING.sub("", _OPENING.sub("", core, count=1), count=1).strip()
        if shorter == core or not shorter:
            return core
        core = shorter


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that only other languages use often (ambiguous ones like "no", "a", "me"
# are left out): Spanish, French, German, Italian, Portuguese, Dutch.
_FOREIGN = _wordset(
    """el los las del por que qué está esta estoy hay muy pero gracias hola buenos
    buenas día tengo mi tiene agua cocina baño puerta se una uno al lo nos para
    con le les est une des du je suis pas avec sur dans bonjour merci oui très
    cette c'est il elle nous vous mon ma der die das und ist nicht ich ein eine
    mit auf bitte danke hallo guten kein ja sehr wir ihr il è non sono della che
    ciao grazie buongiorno perché o não sim obrigado olá você é het een niet ik
    dank hoi goedemorgen wij zijn"""
)
_ENGLISH = _wordset(
    """the a an and or but is are was were be been to of in on at for with my our
    your you i we it this that there please can could would will not no have has
    had do does did just need needs from by about up out off all any some what
    when where who why how hi hello hey thanks thank yes ok okay"""
)
_WORD = re.compile(r"[^\W\d_][^\W\d_']*", re.UNICODE)
_INJECTION = re.compile(
    r"^\s*(system|assistant|developer|admin|root)\s*[:>\]]|\[\s*(system|inst)\s*\]"
    r"|<\s*/?\s*(system|context|instructions?)\s*>|\bignore\s+(all\s+|any\s+)?"
    r"(previous|prior|above|earlier)\s+(instructions?|rules?)|\bnew\s+(policy|rules?|"
    r"instructions?)\s+from\b|\byou\s+are\s+now\b|\bact\s+as\s+(an?\s+)?(admin|"
    r"manager|system)|\boverride\b.*\b(policy|rules?|approval)",
    re.IGNORECASE | re.MULTILINE,
)


def is_negated(text: str) -> bool:
    """The sender tells the assistant *not* to do something."""
    return bool(_NEGATED.search(text))


def is_never_mind(text: str) -> bool:
    return bool(_NEVER_MIND.match(text))


def asks_for_action(text: str) -> bool:
    """A request phrased politely or as a question ("can someone fix it?")."""
    return bool(_REQUEST.search(text))


def is_question(text: str) -> bool:
    """The sender wants an answer rather than something done."""
    t = text.strip()
    if asks_for_action(t):
        return False
    return t.endswith("?") or bool(_WH_START.match(t) or _AUX_START.match(t))


def is_foreign(text: str) -> bool:
    """Written in a language other than English (the only one the built-in model
    reads): mostly another script, or more common words of another language than
    of English."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if ord(c) < 0x250)
    if latin / len(letters) < 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    foreign = sum(1 for w in words if w in _FOREIGN)
    english = sum(1 for w in words if w in _ENGLISH)
    return foreign >= 1 and foreign > english


def looks_like_data(text: str) -> bool:
    """A pasted JSON object or list, not a sentence someone wrote."""
    t = text.strip()
    if not t or t[0] not in "[{" or t[-1] not in "]}":
        return False
    try:
        json.loads(t)
    except ValueError:
        return t.count('"') >= 4 and t.count(":") >= 2
    return True


def has_injection(text: str) -> bool:
    """Text that claims authority it does not have ("SYSTEM: ...", "new policy
    from head office", "ignore previous instructions")."""
    return bool(_INJECTION.search(text))
