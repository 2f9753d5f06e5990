"""Finding the prompt's people, teams, properties, services and memories in text.

Used by the offline model only. Matching is on the names the context lists, so
nothing outside the sender's directory can ever come out of it (an unknown name
becomes an unknown reference that the policy refuses).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agents.routing import team_for

STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "to",
        "from",
        "in",
        "into",
        "on",
        "onto",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "when",
        "where",
        "who",
        "whom",
        "why",
        "how",
        "which",
        "can",
        "could",
        "will",
        "would",
        "should",
        "may",
        "might",
        "must",
        "anything",
        "something",
        "everything",
        "any",
        "some",
        "all",
        "no",
        "not",
        "please",
        "just",
        "usually",
        "know",
        "tell",
        "let",
    }
)
_WORD = re.compile(r"[a-z0-9]+")
_FILLER = re.compile(
    r"^\s*(heads up|fyi|hi|hello|hey|please|just so you know|note that|"
    r"quick note|update)\s*[,:!.-]*\s*",
    re.IGNORECASE,
)
_NAME_AFTER = re.compile(
    r"\b(?:residents?|tenants?|people|everyone|everybody)\s+(?:of|at|in)\s+"
    r"(?:the\s+)?(?P<name>[A-Z0-9][\w'-]*(?:\s+[A-Z0-9][\w'-]*)*)"
)
_ASKS_WHEN = re.compile(r"\b(when|what time|which day|how often)\b", re.I)
_ASKS_HABIT = re.compile(r"\b(usually|normally|always|regularly|typically)\b", re.I)
_HAS_TIME = re.compile(
    r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|\d{1,2}(:\d\d)?"
    r"\s*(am|pm)|\d{1,2}:\d\d|daily|weekly|monthly)\b",
    re.I,
)
_HABIT = re.compile(r"\b(every|each|always|usually|daily|weekly|monthly)\b", re.I)
_REPORTED = re.compile(r"\bsaid on \d{4}-\d\d-\d\d:", re.I)
# A note its writer marked as secret is context for actions, never quoted back:
# the offline model keeps the prompt's "never reveal confidential information".
_CONFIDENTIAL = re.compile(
    r"\b(confidential|do not share|don't share|not to be shared)\b", re.I
)
_RESIDENTS = re.compile(r"\b(residents?|tenants?|neighbou?rs)\b", re.IGNORECASE)
_ROLE_WORDS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\b(managers?|management)\b", re.I), ("role:manager",)),
    (re.compile(r"\b(admins?|administrators?)\b", re.I), ("role:admin",)),
    (re.compile(r"\b(employees?|staff|crew)\b", re.I), ("role:employee",)),
)


_AMOUNT = re.compile(
    r"(?:[$£€]\s?(?P<a>\d[\d,]*(?:\.\d{1,2})?)(?P<k1>k)?)"
    r"|(?:(?P<b>\d[\d,]*(?:\.\d{1,2})?)(?P<k2>k)?\s?(?:dollars|bucks|usd|pounds|quid|"
    r"gbp|euros?|eur)\b)",
    re.IGNORECASE,
)
_AMOUNT_PHRASE = re.compile(
    r"[\s,(-]*\b(?:for|at|costing|cost(?:s)?|priced at|budget|about|around|"
    r"roughly|approx\w*|it'?s|its|total|each)?[\s:]*(?:about|around|roughly)?\s*"
    r"(?:[$£€]\s?\d[\d,]*(?:\.\d{1,2})?k?|\d[\d,]*(?:\.\d{1,2})?k?\s?(?:dollars|"
    r"bucks|usd|pounds|quid|gbp|euros?|eur)\b)(?:\s*(?:total|each))?[)]?",
    re.IGNORECASE,
)
# "flat 3C", "unit 2", "apartment 4B", "Ben's flat", "my neighbour's flat".
_UNIT_NAMED = re.compile(
    r"\b(?:flat|unit|apartment|apt|no\.?)\s*#?\s*(?P<label>\d{1,4}[a-z]?|[a-z]\d{1,3})\b",
    re.IGNORECASE,
)
_UNIT_OF = re.compile(
    r"\b(?P<owner>[A-Z][a-z]+|neighbou?r|neighbou?rs)'s?\s+(?:flat|unit|apartment|"
    r"place|home|room)\b",
    re.IGNORECASE,
)


def find_amount(text: str) -> float | None:
    """The largest money amount in the text ("$450", "1,200 dollars", "£3k")."""
    found: list[float] = []
    for m in _AMOUNT.finditer(text):
        raw = (m.group("a") or m.group("b") or "").replace(",", "")
        try:
            value = float(raw)
        except ValueError:
            continue
        if m.group("k1") or m.group("k2"):
            value *= 1000
        found.append(value)
    return max(found) if found else None


def strip_amount(text: str) -> str:
    return _AMOUNT_PHRASE.sub("", text).strip(" ,.-")


def other_unit(text: str, sender: dict[str, Any]) -> str | None:
    """A unit the text is about that is not the sender's own, if it names one."""
    own = str(sender.get("unit") or "").lower()
    first = str(sender.get("name") or "").split(" ")[0].lower()
    for m in _UNIT_NAMED.finditer(text):
        label = m.group("label")
        if label.lower() != own:
            return label.upper()[:20]
    for m in _UNIT_OF.finditer(text):
        owner = m.group("owner")
        if owner.lower() not in (first, "my", "our"):
            return f"{owner}'s"[:20]
    return None


# Words people use for the same thing (British and American, everyday and formal):
# each maps to one canonical word before stemming.
_SAME = {
    "bin": "trash",
    "bins": "trash",
    "rubbish": "trash",
    "garbage": "trash",
    "refuse": "trash",
    "waste": "trash",
    "collected": "pickup",
    "collection": "pickup",
    "collect": "pickup",
    "lift": "elevator",
    "lifts": "elevator",
    "flat": "apartment",
    "hallways": "hallway",
    "corridor": "hallway",
    "corridors": "hallway",
    "halls": "hallway",
    "hall": "hallway",
    "cleaned": "cleaning",
    "clean": "cleaning",
    "faucet": "tap",
    "fixed": "fix",
    "repaired": "fix",
    "repair": "fix",
    "sorted": "fix",
}


def stem(word: str) -> str:
    """A crude stem: enough to match delivery/delivers, enter/entering."""
    word = _SAME.get(word.lower(), word.lower())
    if len(word) > 5:
        return word[:5]
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS}


def ref_key(ref: str) -> str:
    """ "property:maple-court-12" → "maple-court-12"."""
    return ref.split(":", 1)[1]


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63] or "unknown"


def _has_phrase(text: str, phrase: str) -> bool:
    phrase = phrase.strip().lower()
    return (
        bool(phrase)
        and re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text.lower())
        is not None
    )


def first_clause(text: str) -> str:
    clause = re.split(r"(?<=[.!?;])\s+|,\s*(?:please|and|so|but)\b", text.strip())[0]
    return clause.strip(" .!?;,")


def clean_sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:")
    return text[:1].upper() + text[1:] if text else text


def title_of(text: str) -> str:
    title = _FILLER.sub("", text.strip()).strip(" .!?;,")
    title = clean_sentence(title) or "Request"
    return title if len(title) <= 120 else title[:117].rstrip() + "..."


def human_time(iso: str) -> str:
    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return at.strftime("%a %d %b at %H:%M")


_ASKS_AGENDA = re.compile(
    r"\b(what'?s|what is|anything|any\w*|what)\b.*\b(on|planned|happening|"
    r"scheduled|coming up|booked)\b|\b(schedule|calendar|agenda|diary|plan)\b",
    re.IGNORECASE,
)
_ASKS_LIST = re.compile(
    r"\b(my|our|open|outstanding|pending|still)\b.*\b(requests?|tasks?|reports?|"
    r"list|jobs?|open)\b",
    re.IGNORECASE,
)
_TEAM_WORDS = re.compile(r"\b(team|our|we|kitchen|maintenance|crew)\b", re.I)
_STATUS_WORDS = {stem(w) for w in ("fixed", "done", "yet", "still", "sorted", "open")}


def _request_line(r: dict[str, Any]) -> str:
    status = str(r.get("status") or "open").replace("_", " ")
    who = f", with {r['assignee']}" if r.get("assignee") else ""
    since = f", reported {r['created']}" if r.get("created") else ""
    return f'"{r.get("title", "request")}" is {status}{who}{since}.'


class Context:
    """The prompt's <context> block with lookups over it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.sender: dict[str, Any] = data.get("sender") or {}
        self.people: list[dict[str, Any]] = data.get("people") or []
        self.teams: list[dict[str, Any]] = data.get("teams") or []
        self.properties: list[dict[str, Any]] = data.get("properties") or []
        self.memories: list[dict[str, Any]] = data.get("memories") or []
        self.roles: list[str] = data.get("roles") or []

    # --------------------------------------------------------------- who / where

    def named_people(self, text: str) -> list[str]:
        refs = []
        for p in self.people:
            if p["ref"] == self.sender.get("ref"):
                continue
            handle = ref_key(p["ref"])
            name = p.get("name", "")
            first = name.split()[0] if name else ""
            # A first name alone counts unless a capitalised word follows it that
            # is not this person's surname ("Maple" in "Maple Court").
            first_alone = bool(first) and re.search(
                rf"(?<![\w-]){re.escape(first)}(?![\w-])(?!\s+[A-Z])", text
            )
            if (
                _has_phrase(text, name)
                or first_alone
                or re.search(rf"(?<![\w-]){re.escape(handle)}(?![\w-])", text)
            ):
                refs.append(p["ref"])
        return refs

    def named_teams(self, text: str) -> list[str]:
        refs = []
        for t in self.teams:
            slug = ref_key(t["ref"])
            names = {t.get("name", ""), slug, slug.replace("-", " ")}
            if any(_has_phrase(text, n) for n in names if n):
                refs.append(t["ref"])
        return refs

    def team_like(self, fragment: str) -> str | None:
        for t in self.teams:
            if fragment in t["ref"] or fragment in t.get("name", "").lower():
                return str(t["ref"])
        return None

    def team_for_purpose(self, purpose: str) -> str | None:
        """The tenant's team whose name says it does `purpose` ("repairs")."""
        return team_for("", self.teams, purpose)

    def sender_teams(self) -> list[str]:
        return list(self.sender.get("teams") or [])

    def sender_place(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.sender.get("property"):
            out["property"] = ref_key(self.sender["property"])
        if self.sender.get("unit"):
            out["unit"] = self.sender["unit"]
        return out

    def mentioned_property(self, text: str) -> dict[str, Any] | None:
        for p in self.properties:
            slug = ref_key(p["ref"])
            street = (p.get("address") or "").split(",")[0]
            if any(
                _has_phrase(text, n) for n in (p.get("name", ""), slug, street) if n
            ):
                return p
        return None

    def audience(self, phrase: str, whole_text: str) -> list[str]:
        """Refs for an audience phrase ("the kitchen team", "every resident of X")."""
        if re.fullmatch(r"\s*(me|myself|us)\s*", phrase, re.IGNORECASE):
            return []
        refs: list[str] = []
        if _RESIDENTS.search(phrase):
            named = _NAME_AFTER.search(phrase)
            prop = self.mentioned_property(phrase) or (
                None if named else self.mentioned_property(whole_text)
            )
            if prop is not None:
                refs.append(prop["ref"])
            elif named:
                # A place we do not know: keep it, so the refusal can say so.
                refs.append(f"property:{slugify(named.group('name'))}")
            elif self.sender.get("property"):
                refs.append(self.sender["property"])
            else:
                refs.append("role:resident")
        refs += self.named_teams(phrase)
        for pattern, role_refs in _ROLE_WORDS:
            if pattern.search(phrase) and not self.named_teams(phrase):
                refs += list(role_refs)
        refs += self.named_people(phrase)
        if not refs:
            word = re.match(r"\s*(?:the\s+)?([A-Za-z][\w-]*)", phrase)
            if word and word.group(1)[0].isupper():
                refs.append(f"user:{slugify(word.group(1))}")
        return list(dict.fromkeys(refs))

    def triage_ref(self) -> str:
        """Who takes what the assistant cannot place (the tenant's triage role)."""
        return str(self.data.get("triage") or "role:manager")

    def people_in(self, ref: str) -> str:
        """ "role:manager" → "Dana Whitfield (manager)", for telling the sender."""
        if ref.startswith("role:"):
            role = ref_key(ref)
            named = [p.get("name", "") for p in self.people if p.get("role") == role]
            if named:
                return " and ".join(named[:3]) + f" ({role})"
        return self.names([ref])

    def names(self, refs: list[str]) -> str:
        labels = []
        for ref in refs:
            if ref == self.sender.get("ref"):
                labels.append("you")
                continue
            label = ref
            for item in (*self.people, *self.teams, *self.properties):
                if item.get("ref") == ref:
                    label = item.get("name", ref)
                    if ref.startswith("property:"):
                        label = f"the residents of {label}"
            if ref.startswith("role:"):
                label = ref_key(ref) + "s"
            labels.append(label)
        if len(labels) <= 1:
            return "".join(labels) or "nobody"
        return ", ".join(labels[:-1]) + " and " + labels[-1]

    # --------------------------------------------------------------- services

    def match_service(self, text: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The property service the text names best (word overlap), if any."""
        words = content_stems(text)
        mentioned = self.mentioned_property(text)
        best: tuple[int, dict[str, Any], dict[str, Any]] | None = None
        for prop in self.properties:
            if mentioned is not None and prop is not mentioned:
                continue
            for service in prop.get("services") or []:
                overlap = len(words & content_stems(service["name"]))
                if overlap and (best is None or overlap > best[0]):
                    best = (overlap, prop, service)
        return (best[1], best[2]) if best else None

    # --------------------------------------------------------------- memories

    def upcoming(self, question: str, limit: int = 6) -> list[str]:
        """What is coming up, when the question asks about a period ("this
        week", "today", "what's on")."""
        items = self.data.get("upcoming") or []
        if not items or not _ASKS_AGENDA.search(question):
            return []
        return [f"{i['title']}: {i['when']}." for i in items[:limit]]

    def request_status(self, question: str) -> str | None:
        """The sender's own requests (and, for staff, their teams' open tasks)
        that the question is about, with their status."""
        words = content_stems(question) - _STATUS_WORDS
        mine = list(self.data.get("my_requests") or [])
        team = list(self.data.get("team_tasks") or [])
        matches = [
            r for r in mine + team if words & content_stems(str(r.get("title", "")))
        ]
        if not matches and _ASKS_LIST.search(question):
            matches = team if _TEAM_WORDS.search(question) and team else mine or team
        if not matches:
            return None
        lines = [_request_line(r) for r in matches[:5]]
        return " ".join(lines)

    def relevant_facts(self, question: str, limit: int = 3) -> list[str]:
        """Memories (and services) sharing words with the question, best first."""
        agenda = self.upcoming(question)
        if agenda:
            return ["Coming up:", *agenda]
        words = content_stems(question)
        candidates: list[str] = [
            m["text"] for m in self.memories if not _CONFIDENTIAL.search(m["text"])
        ]
        for prop in self.properties:
            for s in prop.get("services") or []:
                candidates.append(f"{s['name']} at {prop['name']}: {s['when']}.")
        for item in self.data.get("upcoming") or []:
            candidates.append(f"{item['title']}: {item['when']}.")
        asks_when = bool(_ASKS_WHEN.search(question))
        asks_habit = bool(_ASKS_HABIT.search(question))
        scored = []
        for rank, fact in enumerate(candidates):
            overlap = float(len(words & content_stems(fact)))
            if not overlap:
                continue
            # A "when" question wants a fact with a time in it; "usually" wants a
            # standing rule rather than one occurrence; reported speech ranks below
            # established notes.
            if asks_when and _HAS_TIME.search(fact):
                overlap += 1
            if asks_habit and _HABIT.search(fact):
                overlap += 1
            if _REPORTED.search(fact):
                overlap -= 0.5
            scored.append((overlap, -rank, fact))
        if not scored:
            return []
        scored.sort(reverse=True)
        top = scored[0][0]
        return [f for score, _, f in scored[:limit] if score * 2 >= top]
