"""The console's audit log (filters, pages, CSV) and the audit chain page of one
message (/admin/chain?ref=action:<id>). Admins only: every handler checks."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import reflex as rx

from app.domain.actions import ACTION_TYPES
from app.domain.actor import Actor
from app.domain.roles import ADMIN_ROLES
from app.services import audit_chain, audit_log, console
from state import routes
from state.format import local, parse_id, when
from state.session import SessionState, guarded

ANY = "any"
VERDICT_LABELS = {
    ANY: "Any verdict",
    "allow": "Allowed",
    "deny": "Refused",
    "needs_approval": "Needed approval",
}
TYPE_CHOICES = [ANY, *ACTION_TYPES]


def chain_href(ref: str) -> str:
    return f"{routes.ADMIN_CHAIN}?ref={ref}" if ref else ""


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class AuditState(SessionState):
    entries: list[dict[str, str]] = []
    messages: list[dict[str, str]] = []
    people: list[list[str]] = []  # [id, name] for the user filter
    total: int = 0
    page: int = 1
    pages: int = 1
    f_user: str = ANY
    f_type: str = ANY
    f_verdict: str = ANY
    f_from: str = ""
    f_to: str = ""

    def _filter(self) -> audit_log.AuditFilter:
        return audit_log.AuditFilter(
            user_id=None if self.f_user == ANY else parse_id(self.f_user),
            action_type="" if self.f_type == ANY else self.f_type,
            verdict="" if self.f_verdict == ANY else self.f_verdict,
            date_from=_day(self.f_from),
            date_to=_day(self.f_to),
        )

    async def _load(self, actor: Actor) -> None:
        zone = await console.tenant_zone(actor)
        found = await audit_log.list_audit(actor, self._filter(), zone, self.page)
        self.total, self.page, self.pages = found.total, found.page, found.pages
        self.entries = [
            {
                "at": local(e.created_at, zone),
                "actor": e.actor,
                "kind": e.kind,
                "subject": e.subject,
                "verdict": VERDICT_LABELS.get(e.verdict, e.verdict),
                "reason": e.reason,
                "href": chain_href(e.chain_ref),
            }
            for e in found.entries
        ]

    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_audit(self, actor: Actor) -> None:
        self.people = [[str(i), n] for i, n in await audit_log.audit_users(actor)]
        zone = await console.tenant_zone(actor)
        self.messages = [
            {
                "at": local(m.created_at, zone),
                "sender": m.sender,
                "body": m.body,
                "status": m.status,
                "actions": str(m.actions),
                "href": chain_href(f"message:{m.id}"),
            }
            for m in await audit_chain.recent_messages(actor)
        ]
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def set_filter(self, actor: Actor, name: str, value: str) -> None:
        value = str(value)[:40]
        if name == "user":
            self.f_user = value if value == ANY else str(parse_id(value))
        elif name == "type":
            self.f_type = value if value in TYPE_CHOICES else ANY
        elif name == "verdict":
            self.f_verdict = value if value in VERDICT_LABELS else ANY
        elif name in ("from", "to"):
            day = _day(value)
            setattr(self, f"f_{name}", day.isoformat() if day else "")
        self.page = 1
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def clear_filters(self, actor: Actor) -> None:
        self.f_user = self.f_type = self.f_verdict = ANY
        self.f_from = self.f_to = ""
        self.page = 1
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def go_page(self, actor: Actor, delta: int) -> None:
        self.page = max(1, min(self.pages, self.page + int(delta)))
        await self._load(actor)

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def export_csv(self, actor: Actor) -> Any:
        zone = await console.tenant_zone(actor)
        data = await audit_log.export_csv(actor, self._filter(), zone)
        return rx.download(data=data, filename="audit.csv")


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


class ChainState(SessionState):
    """One message's chain; the prompt is fetched only when the toggle opens."""

    ref: str = ""
    loaded: bool = False
    found: bool = False
    message: dict[str, str] = {}
    memories: list[dict[str, str]] = []
    calls: list[dict[str, str]] = []
    actions: list[dict[str, str]] = []
    notifications: list[dict[str, str]] = []
    events: list[dict[str, str]] = []
    prompt: list[dict[str, str]] = []
    show_prompt: bool = False

    @rx.event
    @guarded(*ADMIN_ROLES, quiet_role=True)
    async def load_chain(self, actor: Actor) -> None:
        self.reset()
        ref = str(self.router.url.query_parameters.get("ref", ""))[:120]
        self.ref, self.loaded = ref, True
        zone = await console.tenant_zone(actor)
        chain = await audit_chain.load_chain(actor, ref)  # NotFound: a toast
        self.found = True
        self.message = {
            "body": chain.body,
            "sender": chain.sender,
            "role": chain.sender_role,
            "source": chain.source,
            "status": chain.status,
            "at": local(chain.created_at, zone),
            "reply": chain.reply,
            "run": chain.run_status or "not run",
            "error": chain.run_error,
            "model": chain.model,
            "withheld": "yes" if chain.memories_withheld else "",
            "has_prompt": "yes" if chain.has_prompt else "",
        }
        self.memories = [
            {
                "scope": m.scope,
                "score": f"{m.score:.4f}",
                "source": m.source or "-",
                "text": "(forgotten since)" if m.forgotten else m.text,
            }
            for m in chain.memories
        ]
        self.calls = [
            {
                "purpose": c.purpose,
                "model": c.model,
                "tokens": f"{c.prompt_tokens:,} + {c.completion_tokens:,}",
                "cost": f"${c.cost_usd:.5f}",
                "latency": f"{c.latency_ms:,} ms",
            }
            for c in chain.calls
        ]
        self.actions = [_action_row(a, zone) for a in chain.actions]
        self.notifications = [
            {
                "to": n.recipient,
                "kind": n.kind,
                "title": n.title,
                "at": local(n.created_at, zone),
                "pushed": local(n.pushed_at, zone) if n.pushed_at else "not pushed",
                "read": local(n.read_at, zone) if n.read_at else "unread",
            }
            for n in chain.notifications
        ]
        self.events = [
            {"at": when(e.created_at), "actor": e.actor, "kind": e.kind}
            for e in chain.events
        ]

    @rx.event
    @guarded(*ADMIN_ROLES)
    async def toggle_prompt(self, actor: Actor) -> None:
        if self.show_prompt:
            self.show_prompt, self.prompt = False, []
            return
        self.prompt = await audit_chain.load_prompt(actor, self.ref)
        self.show_prompt = True


def _action_row(a: audit_chain.ChainAction, zone: Any) -> dict[str, str]:
    ap = a.approval
    return {
        "n": str(a.position + 1),
        "type": a.type.replace("_", " "),
        "status": a.status,
        "decision": VERDICT_LABELS.get(a.decision, a.decision or "-"),
        "reason": a.reason or a.error,
        "payload": _json(a.payload),
        "hash": a.payload_hash,
        "result": _json(a.result) if a.result else "",
        "executed": local(a.executed_at, zone),
        "approval": ap.status if ap else "",
        "approval_role": ap.required_role if ap else "",
        "approval_by": (ap.decided_by or "-") if ap else "",
        "approval_at": local(ap.decided_at, zone) if ap else "",
        "approval_hash": ap.payload_hash if ap else "",
        "hash_ok": ("matches" if ap.hash_matches else "CHANGED") if ap else "",
    }
