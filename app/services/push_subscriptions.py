"""Web Push subscriptions of the signed-in user: add (idempotent), list, remove.

The push sender (jobs) POSTs to the endpoint, so only https URLs whose host resolves
to public addresses only are accepted: no internal address reachable through the
server, however it is spelt (app/core/netguard.py).
"""

from __future__ import annotations

import asyncio
import re
import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from app.core.db import tenant_session
from app.core.netguard import check_url
from app.domain.actor import Actor
from app.domain.errors import Invalid
from app.domain.models import PushSubscription
from app.services.access import access_push_subscription

B64URL = re.compile(r"^[A-Za-z0-9_\-=]+$")
MAX_PER_USER = 20


def check_endpoint(endpoint: str) -> str:
    """The endpoint, if it resolves only to public addresses (app/core/netguard.py);
    the push sender checks it again, and connects to what it checked."""
    endpoint = endpoint.strip()
    if not endpoint or len(endpoint) > 1000:
        raise Invalid("endpoint must be 1-1000 characters.")
    check_url(endpoint)
    return endpoint


def _check_key(name: str, value: str, max_len: int) -> str:
    if not value or len(value) > max_len or not B64URL.match(value):
        raise Invalid(f"{name} must be base64url, 1-{max_len} characters.")
    return value


async def add_subscription(
    actor: Actor, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Subscribe this browser; the same endpoint again updates it (and moves it to
    the signed-in user if someone else used this browser before)."""
    # Resolving the host blocks: not on the event loop.
    endpoint = await asyncio.to_thread(check_endpoint, endpoint)
    p256dh = _check_key("p256dh", p256dh, 200)
    auth = _check_key("auth", auth, 100)
    async with tenant_session(actor.tenant_id) as s:
        count = len(
            (
                await s.exec(
                    select(PushSubscription.id).where(
                        PushSubscription.tenant_id == actor.tenant_id,
                        PushSubscription.user_id == actor.user_id,
                        PushSubscription.endpoint != endpoint,
                    )
                )
            ).all()
        )
        if count >= MAX_PER_USER:
            raise Invalid(f"At most {MAX_PER_USER} push subscriptions per user.")
        # One statement, so two concurrent subscriptions of one browser (or a
        # resubscribe racing the first) both succeed and leave one row.
        new = PushSubscription(
            tenant_id=actor.tenant_id,
            user_id=actor.user_id,
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
        )
        stmt = (
            insert(PushSubscription)
            .values(new.model_dump())
            .on_conflict_do_update(
                index_elements=["tenant_id", "endpoint"],
                # The browser moves to whoever signed in on it last.
                set_={
                    "user_id": actor.user_id,
                    "p256dh": p256dh,
                    "auth": auth,
                    "failures": 0,
                },
            )
            .returning(col(PushSubscription.id))
        )
        row_id = (await s.execute(stmt)).scalar_one()
        row = (
            await s.exec(
                select(PushSubscription)
                .where(PushSubscription.id == row_id)
                .execution_options(populate_existing=True)
            )
        ).one()
    return row


async def list_subscriptions(actor: Actor) -> list[PushSubscription]:
    async with tenant_session(actor.tenant_id) as s:
        rows = await s.exec(
            select(PushSubscription)
            .where(
                PushSubscription.tenant_id == actor.tenant_id,
                PushSubscription.user_id == actor.user_id,
            )
            .order_by(col(PushSubscription.created_at))
        )
        return list(rows.all())


async def remove_subscription(actor: Actor, subscription_id: uuid.UUID) -> None:
    async with tenant_session(actor.tenant_id) as s:
        row = await access_push_subscription(s, actor, subscription_id)
        await s.delete(row)
