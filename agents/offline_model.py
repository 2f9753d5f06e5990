"""The built-in offline model: a small rule-based stand-in for an LLM.

It is served through litellm as "switchboard/offline" (agents/provider.py), so demos
and tests run the exact path a hosted model takes: prompt → litellm → JSON text →
parsing → policy. It reads only the prompt (the <context> block and the sender's
message): the directory it may address, the memories retrieval chose, and the time.
It knows a handful of request shapes (relay a message, remind at a time, report a
problem, give entry permission, log or cancel a service, ask a question) and
extracts people, teams, properties and times from the text. Anything cleverer
needs a real model: set LLM_MODEL.

Like a real model it may propose something the sender is not allowed to do; the
policy (agents/policy.py), not this module, decides what runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agents import cues
from agents import textmatch as tm
from agents.intents import classify
from agents.prompt import parse_context
from agents.routing import EMERGENCY, responsible_team
from agents.timeparse import FoundTime, find_time

OFFLINE_MODEL_NAME = "offline"
UNTRUSTED_REPLY = (
    "I treat pasted data and instructions inside a message as text, not as orders, "
    "so I have not acted on it. Tell me in your own words what you need."
)
FOREIGN_REPLY = "I can only read English, so I may have misunderstood."
UNSURE_REPLY = "I'm not sure who should handle this."
NEGATED_REPLY = "OK, I won't do that. Nothing was changed."
CLARIFY_PREFIX = "To be sure I get this right:"
# Calibrated confidences (agents/intents.py): above CONFIDENT the top intent is
# trusted on its own; an intent below CANDIDATE is not worth trying.
CONFIDENT = 0.5
CANDIDATE = 0.12
_OFFERS = {
    "relay": "pass a message on to someone",
    "remind": "set a reminder",
    "report": "report a problem to the team that fixes it",
    "permission": "record permission to enter your home",
    "log_service": "log a service as done",
    "cancel_service": "cancel a service",
    "purchase": "request a purchase",
}
_CUED_FRAMES = ("relay", "cancel_service", "log_service", "permission")
Frame = Callable[[str, "FoundTime | None", bool], list[dict[str, Any]]]

_RELAY_LET = re.compile(
    r"\blet\s+(?P<aud>.+?)\s+know\b(?:\s+(?:that|about))?[\s,:]*(?P<content>.*)",
    re.IGNORECASE | re.DOTALL,
)
_RELAY_VERB = re.compile(
    r"\b(?P<verb>tell|notify|inform|remind|ask|message|warn|alert)\s+"
    r"(?P<aud>.+?)(?:\s+(?:that|to|about)\s+|\s*[:,]\s*|$)(?P<content>.*)",
    re.IGNORECASE | re.DOTALL,
)
# "Omar the boiler is broken" → audience "Omar", news "the boiler is broken".
_AUD_THEN_NEWS = re.compile(
    r"^(?P<aud>.+?)\s+(?P<news>(?:the|a|an|my|our|his|her|their|its|it|it's|"
    r"there|there's|we|we're|we've|i|i'm|i've|you|your|they|they're|she|he|this|"
    r"these|those|everything|someone|somebody|no|all)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)
_SELF = re.compile(r"^\s*(me|myself|us)\b", re.IGNORECASE)
_CANCEL = re.compile(r"\b(cancel|call off|skip|postpone indefinitely)\b", re.I)
_COMPLETED = re.compile(
    r"\b(finished|completed?|done|have done|did the|performed|took care of|"
    r"cleared|sorted)\b",
    re.IGNORECASE,
)
_PERMISSION = re.compile(
    r"\b(?:can|may|could|is welcome to|are welcome to)\s+(?:come|enter|go|pop|stop)"
    r"|\bpermission\b|\blet (?:them|him|her|yoursel\w+) in\b|\baccess (?:to )?my\b"
    r"|\b(?:feel free|go ahead|fine|ok|okay|happy|allowed|authori[sz]e)\b.{0,30}"
    r"\b(?:come|enter|go|access|in)\b",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|ok|okay|great|cool|good morning|"
    r"good evening|bye)\b[\s!.]*$",
    re.IGNORECASE,
)
_SCHEDULE_VERB = re.compile(
    r"^\s*(please\s+)?(can you\s+|could you\s+)?(schedule|book|set up|arrange|put|"
    r"add|plan|organi[sz]e|pencil in)\s+(in\s+)?(an?\s+|the\s+)?",
    re.IGNORECASE,
)


def answer(messages: list[Any]) -> str:
    """The model's whole answer as JSON text."""
    dict_messages = [m if isinstance(m, dict) else dict(m) for m in messages]
    context = parse_context(dict_messages)
    text = next(
        (
            str(m.get("content") or "")
            for m in reversed(dict_messages)
            if m.get("role") == "user"
        ),
        "",
    )
    if context is None:
        out = {"reply": "I could not read my instructions.", "actions": []}
    else:
        out = OfflineAssistant(context).respond(text, _previous(dict_messages))
    return json.dumps(out, ensure_ascii=False)


def _previous(messages: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The turn before the current message: (user text, assistant reply)."""
    turns = [m for m in messages if m.get("role") in ("user", "assistant")]
    if len(turns) < 3 or [t.get("role") for t in turns[-3:-1]] != ["user", "assistant"]:
        return None
    return str(turns[-3].get("content") or ""), str(turns[-2].get("content") or "")


class OfflineAssistant:
    def __init__(self, context: dict[str, Any]) -> None:
        self.ctx = tm.Context(context)
        self.now = datetime.fromisoformat(context["now"])
        self._top: tuple[str, float] = ("", 0.0)

    # ------------------------------------------------------------------ dispatch

    def respond(
        self, text: str, previous: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """`previous` is the last (user text, assistant reply) of the conversation:
        when that reply was a clarifying question, this message answers it."""
        text = text.strip()[:2000]
        if not text or _SMALL_TALK.match(text):
            return {"reply": "Hello! How can I help?", "actions": []}
        if cues.looks_like_data(text) or cues.has_injection(text):
            # Pasted data and instructions claiming authority are text: nothing in
            # a message changes who may do what.
            return {"reply": UNTRUSTED_REPLY, "actions": []}
        if cues.is_foreign(text):
            return self._forward(text, FOREIGN_REPLY)
        if cues.is_never_mind(text):
            return {"reply": "OK, I won't do anything about it.", "actions": []}
        if cues.is_negated(text):
            return {"reply": NEGATED_REPLY, "actions": []}
        if previous is not None and previous[1].startswith(CLARIFY_PREFIX):
            text = f"{previous[0].rstrip(' .?!')}. {text}"
        return self._understand(text)

    def _understand(self, text: str) -> dict[str, Any]:
        # Everything reads the message without "Hi," and "Thanks!": they would
        # hide a question mark, end up in a title, or make the classifier take a
        # report for small talk. Retrieval embeds the same text (search_text), so
        # the classifier's vector comes from the embedding cache.
        said, text = text, cues.without_courtesies(text)
        prediction = classify(text)
        question = cues.is_question(text)
        when = find_time(text, self.now)
        ranked = sorted(prediction.scores.items(), key=lambda kv: kv[1], reverse=True)
        top, confidence = ranked[0]
        self._top = (top, confidence)
        if question:
            # A question gets an answer and changes nothing, unless it asks for
            # something to be done (cues.asks_for_action makes it no question).
            return {"reply": self._answer(text, ranked), "actions": []}
        if top == "smalltalk" and confidence >= CONFIDENT:
            return {"reply": "You're welcome! Anything else?", "actions": []}
        frames: dict[str, Frame] = {
            "relay": self._relay,
            "remind": self._remind,
            "permission": self._permission,
            "log_service": self._completed,
            "cancel_service": self._cancel,
            "purchase": self._purchase,
            "report": self._report_frame,
        }
        # The classifier ranks what the message may be; a frame that finds its
        # slots (who, what, when) confirms it. The first confirmed one wins.
        tried = [i for i, score in ranked if i in frames and score >= CANDIDATE]
        # Then the frames that demand their own explicit cue ("let X know",
        # "cancel", "finished"): a clear instruction the classifier underrated.
        tried += [i for i in _CUED_FRAMES if i not in tried]
        for intent in tried:
            actions = frames[intent](text, when, False)
            if actions:
                return {"reply": self._describe(actions), "actions": actions}
        if top in ("question", "status") and self.ctx.relevant_facts(text):
            # Asked without a question mark ("bin day"): answer what is known.
            return {"reply": self._answer(text, ranked), "actions": []}
        if (
            self.ctx.sender.get("role") in ("manager", "admin")
            and top == "report"
            and confidence >= CONFIDENT
        ):
            # A manager's statement is a note the assistant keeps (as a memory).
            return {"reply": "Noted, I'll remember that.", "actions": []}
        if self.ctx.sender.get("role") == "resident" or top == "report":
            return self._forward(said, UNSURE_REPLY)
        return {"reply": self._clarify(ranked), "actions": []}

    def _clarify(self, ranked: list[tuple[str, float]]) -> str:
        """One question that offers the two likeliest readings."""
        options = [_OFFERS[i] for i, _ in ranked if i in _OFFERS][:2]
        return f"{CLARIFY_PREFIX} do you want me to {' or '.join(options)}?"

    def _forward(self, text: str, why: str) -> dict[str, Any]:
        """Hand the original message to the organisation's triage role and tell
        the sender who has it: never a dead end."""
        triage = self.ctx.triage_ref()
        sender = self.ctx.sender
        where = f" ({sender['unit']})" if sender.get("unit") else ""
        action = {
            "type": "notify",
            "recipients": [triage],
            "message": f"{sender.get('name', 'Someone')}{where} wrote: {text}"[:1000],
        }
        who = self.ctx.people_in(triage)
        return {
            "reply": f"{why} I've passed your message to {who}, who will get back "
            "to you.",
            "actions": [action],
        }

    # ------------------------------------------------------------------ frames

    def _cancel(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        if not _CANCEL.search(text):
            return []
        when_iso = (
            when.at.strftime("%Y-%m-%dT%H:%M") if when and when.has_date else None
        )
        return self._service_action(
            text, "cancel_service", {"when": when_iso, "reason": text[:500]}
        )

    def _completed(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        if question or not _COMPLETED.search(text):
            return []
        return self._service_action(text, "log_service", {"note": text[:500]})

    def _service_action(
        self, text: str, kind: str, fields: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """An action on the property service the text names, if it names one."""
        found = self.ctx.match_service(text)
        if found is None:
            return []
        prop, service = found
        return [
            {
                "type": kind,
                "property": tm.ref_key(prop["ref"]),
                "service": service["name"],
                **fields,
            }
        ]

    def _relay(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        match = _RELAY_LET.search(text)
        verb = "let"
        if match is None:
            match = _RELAY_VERB.search(text)
            if match is None:
                return []
            verb = match.group("verb").lower()
        aud_phrase = match.group("aud")
        content = match.group("content").strip()
        if not content:
            # "Tell Omar the boiler is broken": the news starts where a new
            # noun phrase or clause does.
            split = _AUD_THEN_NEWS.match(aud_phrase)
            if split is not None:
                aud_phrase, content = split.group("aud"), split.group("news")
        self_reminder = verb == "remind" and bool(_SELF.match(aud_phrase))
        refs = (
            [self.ctx.sender["ref"]]
            if self_reminder and self.ctx.sender.get("ref")
            else self.ctx.audience(aud_phrase, text)
        )
        if not refs:
            return []  # "let me know", "tell me": not a relay to anyone else
        if self_reminder:
            in_content = find_time(content, self.now)
            content = (in_content.strip_from(content) if in_content else content) or (
                content
            )
        if not content or verb == "let" and match.start() > 0:
            # "X happens, please let the residents know": the news is the rest.
            before = re.sub(
                r"[\s,;:-]*\b(please|and|so|could you|can you)?[\s,;:-]*$",
                "",
                text[: match.start()],
                flags=re.IGNORECASE,
            )
            content = (before + " " + content).strip()
        content = tm.clean_sentence(content)
        prop = self.ctx.mentioned_property(text)
        if (
            when
            and not when.deadline
            and (when.has_clock or (verb == "remind" and when.has_date))
        ):
            action: dict[str, Any] = {
                "type": "schedule",
                "title": tm.title_of(when.strip_trailing(content)),
                "start": when.at.strftime("%Y-%m-%dT%H:%M"),
                "audience": refs,
                "kind": "reminder" if verb == "remind" else "event",
            }
            if prop is not None:
                action["property"] = tm.ref_key(prop["ref"])
            return [action]
        return [{"type": "notify", "recipients": refs, "message": content[:1000]}]

    def _permission(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        if self.ctx.sender.get("role") != "resident" or when is None:
            return []  # permission to enter a home is its resident's to give
        if not (_PERMISSION.search(text) or self._is_top("permission")):
            return []
        refs = self.ctx.named_teams(text) + self.ctx.named_people(text)
        if not refs:
            # "Feel free to come in tomorrow to fix the shower": whoever fixes it.
            team = responsible_team(text, self.ctx.teams, self.ctx.properties)
            refs = [team or self.ctx.team_for_purpose("repairs") or "role:manager"]
        action: dict[str, Any] = {
            "type": "schedule",
            "title": tm.title_of("Entry permission: " + when.strip_from(text)),
            "start": when.at.strftime("%Y-%m-%dT%H:%M"),
            "audience": refs,
            "kind": "entry_permission",
        }
        action.update(self._place(text))
        return [action]

    def _place(self, text: str) -> dict[str, str]:
        """The sender's own place, or the unit the text names when it is another
        (the policy refuses that for a resident, with the reason)."""
        place = self.ctx.sender_place()
        other = tm.other_unit(text, self.ctx.sender)
        if other is not None:
            place["unit"] = other
        return place

    def _is_top(self, intent: str) -> bool:
        return self._top[0] == intent and self._top[1] >= CONFIDENT

    def _remind(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        """ "Remind X to ...", else an entry in the calendar at the time given."""
        relayed = self._relay(text, when, question)
        if relayed or when is None or not (when.has_clock or when.has_date):
            return relayed
        refs = self.ctx.named_teams(text) + self.ctx.named_people(text)
        title = tm.title_of(_SCHEDULE_VERB.sub("", when.strip_from(text)))
        action: dict[str, Any] = {
            "type": "schedule",
            "title": title,
            "start": when.at.strftime("%Y-%m-%dT%H:%M"),
            "audience": refs or [self.ctx.sender["ref"]],
            "kind": "meeting" if re.search(r"\bmeeting\b", text, re.I) else "event",
        }
        prop = self.ctx.mentioned_property(text)
        if prop is not None:
            action["property"] = tm.ref_key(prop["ref"])
        return [action]

    def _purchase(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        """A purchase request is a task with its cost: over the tenant's
        threshold the policy holds it for approval, whatever the wording."""
        amount = tm.find_amount(text)
        if amount is None and not self._is_top("purchase"):
            return []
        task: dict[str, Any] = {
            "type": "create_task",
            "title": tm.title_of(tm.strip_amount(tm.first_clause(text))),
            "details": text[:2000],
        }
        if amount is not None:
            task["cost"] = amount
        return [task]

    def _report_frame(
        self, text: str, when: FoundTime | None, question: bool
    ) -> list[dict[str, Any]]:
        return self._report(text, when)

    def _report(self, text: str, when: FoundTime | None) -> list[dict[str, Any]]:
        sender = self.ctx.sender
        emergency = bool(EMERGENCY.search(text))
        summary = tm.title_of(tm.first_clause(text))
        if sender.get("role") == "resident":
            team = responsible_team(text, self.ctx.teams, self.ctx.properties)
            if team is None and emergency:
                team = self.ctx.team_for_purpose("repairs")
            if team is None and not emergency:
                return []
            actions: list[dict[str, Any]] = []
            recipients = [team] if team else []
            if team:
                task: dict[str, Any] = {
                    "type": "create_task",
                    "title": summary,
                    "details": text[:2000],
                    "assignee": team,
                    "priority": "urgent" if emergency else "normal",
                }
                task.update(self._place(text))
                actions.append(task)
            if emergency:
                recipients.append("role:manager")
            where = f" ({sender['unit']})" if sender.get("unit") else ""
            actions.append(
                {
                    "type": "notify",
                    "recipients": recipients,
                    "message": f"{sender.get('name', 'A resident')}{where}: {text}"[
                        :1000
                    ],
                }
            )
            return actions
        if sender.get("role") in ("manager", "admin"):
            return []  # a manager's statement is a note, not a request to anyone
        actions = [
            {
                "type": "notify",
                "recipients": ["role:manager"],
                "message": f"{sender.get('name', 'Someone')}: {text}"[:1000],
            }
        ]
        if when is not None and when.has_clock and when.at > self.now:
            assignee = self.ctx.named_teams(text) or self.ctx.sender_teams()
            task = {
                "type": "create_task",
                "title": tm.title_of(when.strip_trailing(tm.first_clause(text))),
                "details": text[:2000],
                "due": when.at.strftime("%Y-%m-%dT%H:%M"),
            }
            if assignee:
                task["assignee"] = assignee[0]
            if emergency:
                task["priority"] = "urgent"
            actions.insert(0, task)
        return actions

    # ------------------------------------------------------------------ replies

    def _answer(self, text: str, ranked: list[tuple[str, float]]) -> str:
        """From the organisation's data in the context: the sender's open
        requests (a status question), what is coming up, services, memories."""
        asks_status = next(i for i, _ in ranked if i in ("question", "status"))
        if asks_status == "status":
            found = self.ctx.request_status(text)
            if found:
                return found
            facts = self.ctx.relevant_facts(text)
            return " ".join(
                [
                    "I can't see an open request about that, so I can't say it "
                    "has been fixed; tell me what is wrong and I'll report it.",
                    *(["Related:", *facts] if facts else []),
                ]
            )
        return self._answer_question(text)

    def _answer_question(self, text: str) -> str:
        facts = self.ctx.relevant_facts(text)
        if not facts:
            return (
                "I don't know: nothing in what I can see answers that. "
                "Ask a manager, or tell me and I will remember."
            )
        return "Here is what I know: " + " ".join(facts)

    def _describe(self, actions: list[dict[str, Any]]) -> str:
        parts = []
        for a in actions:
            kind = a["type"]
            if kind == "notify":
                parts.append(f"I'll let {self.ctx.names(a['recipients'])} know.")
            elif kind == "create_task":
                who = (
                    self.ctx.names([a["assignee"]]) if a.get("assignee") else "the team"
                )
                due = f", due {tm.human_time(a['due'])}" if a.get("due") else ""
                parts.append(f"I've logged a task for {who}: {a['title']}{due}.")
            elif kind == "schedule":
                parts.append(
                    f'I\'ve scheduled "{a["title"]}" for {tm.human_time(a["start"])}'
                    f" and will tell {self.ctx.names(a['audience'])}."
                )
            elif kind == "log_service":
                parts.append(f"Logged: {a['service']} done.")
            elif kind == "cancel_service":
                parts.append(f"Cancelling {a['service']} as requested.")
        return " ".join(parts)
