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
from datetime import datetime
from typing import Any

from agents import cues
from agents import textmatch as tm
from agents.prompt import parse_context
from agents.timeparse import FoundTime, find_time

OFFLINE_MODEL_NAME = "offline"
UNTRUSTED_REPLY = (
    "I treat pasted data and instructions inside a message as text, not as orders, "
    "so I have not acted on it. Tell me in your own words what you need."
)
FOREIGN_REPLY = "I can only read English, so I may have misunderstood."
UNSURE_REPLY = "I'm not sure who should handle this."
NEGATED_REPLY = "OK, I won't do that. Nothing was changed."

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
    r"\b(finished|completed|done with|have done|did the|performed|took care of)\b",
    re.IGNORECASE,
)
_PERMISSION = re.compile(
    r"\b(?:can|may|could|is welcome to|are welcome to)\s+(?:come|enter|go|pop|stop)"
    r"|\bpermission\b|\blet (?:them|him|her) in\b|\baccess (?:to )?my\b",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|ok|okay|great|cool|good morning|"
    r"good evening|bye)\b[\s!.]*$",
    re.IGNORECASE,
)
_EMERGENCY = re.compile(
    r"\b(flood\w*|fire|smoke|gas|no heat(ing)?|burst|pouring|sparks?|"
    r"carbon monoxide|emergency|electrocut\w*)\b",
    re.IGNORECASE,
)
# Problem words by the kind of team that handles them (matched against team names).
_CATEGORIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "mainten",
        re.compile(
            r"\b(leak\w*|drip\w*|broken|break\w*|fix|repair\w*|water|sink|tap|"
            r"toilet|heat\w*|boiler|radiator|light\w*|bulb|door|lock|window|"
            r"ceiling|wall|floor|flood\w*|pouring|burst|mou?ld|damp|power|electric\w*|"
            r"socket|gas|elevator|lift|noise|stuck|not working|doesn't work|"
            r"won't|smoke|fire|pipe\w*)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "clean",
        re.compile(
            r"\b(dirty|clean\w*|trash|rubbish|garbage|litter|spill\w*|stain\w*|"
            r"smell\w*|bins?|mess\w*)\b",
            re.IGNORECASE,
        ),
    ),
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
        out = OfflineAssistant(context).respond(text)
    return json.dumps(out, ensure_ascii=False)


class OfflineAssistant:
    def __init__(self, context: dict[str, Any]) -> None:
        self.ctx = tm.Context(context)
        self.now = datetime.fromisoformat(context["now"])

    # ------------------------------------------------------------------ dispatch

    def respond(self, text: str) -> dict[str, Any]:
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
        question = cues.is_question(text)
        when = find_time(text, self.now)
        if not question:
            for handler in (
                self._cancel,
                self._completed,
                self._relay,
                self._permission,
            ):
                actions = handler(text, when, question)
                if actions:
                    return {"reply": self._describe(actions), "actions": actions}
        if question:
            return {"reply": self._answer_question(text), "actions": []}
        actions = self._report(text, when)
        if actions:
            return {"reply": self._describe(actions), "actions": actions}
        if self.ctx.sender.get("role") in ("manager", "admin"):
            # A manager's statement is a note the assistant keeps (as a memory).
            return {"reply": "Noted, I'll remember that.", "actions": []}
        return self._forward(text, UNSURE_REPLY)

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
            content = (when.strip_from(content) if when else content) or content
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
        if when and (when.has_clock or (verb == "remind" and when.has_date)):
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
        if not _PERMISSION.search(text) or when is None:
            return []
        refs = self.ctx.named_teams(text) + self.ctx.named_people(text)
        if not refs:
            return []
        action: dict[str, Any] = {
            "type": "schedule",
            "title": tm.title_of("Entry permission: " + when.strip_from(text)),
            "start": when.at.strftime("%Y-%m-%dT%H:%M"),
            "audience": refs,
            "kind": "entry_permission",
        }
        action.update(self.ctx.sender_place())
        return [action]

    def _report(self, text: str, when: FoundTime | None) -> list[dict[str, Any]]:
        sender = self.ctx.sender
        emergency = bool(_EMERGENCY.search(text))
        summary = tm.title_of(tm.first_clause(text))
        if sender.get("role") == "resident":
            team = self._responsible_team(text)
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
                task.update(self.ctx.sender_place())
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

    def _responsible_team(self, text: str) -> str | None:
        for team_word, pattern in _CATEGORIES:
            if pattern.search(text):
                team = self.ctx.team_like(team_word)
                if team is not None:
                    return team
        return self.ctx.team_like("mainten") if _EMERGENCY.search(text) else None

    # ------------------------------------------------------------------ replies

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
