"""My requests: what the signed-in person asked for and where each one is."""

from __future__ import annotations

import reflex as rx

from app.domain.actor import Actor
from app.services import console, requests
from state.format import item_href, local
from state.session import SessionState, guarded

# Finished requests look quieter than the ones still moving.
FINISHED = frozenset({"done", "approved", "rejected", "cancelled", "expired", "failed"})


async def request_rows(actor: Actor) -> list[dict[str, str]]:
    zone = await console.tenant_zone(actor)
    return [
        {
            "id": str(r.action_id),
            "kind": r.kind,
            "title": r.title,
            "status": r.status,
            "finished": "1" if r.status in FINISHED else "",
            "message": r.message,
            "at": local(r.created_at, zone),
            "linked": "1" if r.linked else "",
            "href": item_href(actor, r.task_id) if actor.is_staff else "",
        }
        for r in await requests.list_my_requests(actor)
    ]


class RequestsState(SessionState):
    requests: list[dict[str, str]] = []

    @rx.event
    @guarded()
    async def load_requests(self, actor: Actor) -> None:
        self.requests = await request_rows(actor)
