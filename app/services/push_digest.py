"""The push digest: relayed messages as one summary push instead of one by one.

Someone who chose the digest (users.push_digest) is not pushed each relayed
message (push_sender holds them: app/domain/push_hours.py DIGEST_KINDS). The
sweeper calls `send_digests` every few seconds; once the oldest held message has
waited DIGEST_EVERY, everything held and still unread goes out as one push
("3 new messages" · "From Luis Ortega (2) · From Sam Okafor"), inside the person's
push hours only, and is marked pushed so it is never summarised twice. Messages
read in the app meanwhile are left out: the person has seen them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from app.core.db import tenant_session
from app.core.live import LiveEvent
from app.domain.models import Notification, PushSubscription, User, utcnow
from app.domain.push_hours import DIGEST_KINDS
from app.services.push_sender import push_prefs, send_push

DIGEST_EVERY = timedelta(minutes=30)
# Held messages older than this are not summarised any more (the inbox has them).
DIGEST_LOOKBACK = timedelta(hours=24)
DIGEST_KIND = "digest"


def digest_text(titles: list[str]) -> tuple[str, str]:
    """The digest's title and body from the held alerts' titles (oldest first)."""
    count = len(titles)
    title = "1 new message" if count == 1 else f"{count} new messages"
    senders = Counter(titles)
    body = " · ".join(f"{t} ({n})" if n > 1 else t for t, n in senders.items())
    return title, body


async def send_digests(tenant_id: uuid.UUID, now: datetime | None = None) -> int:
    """Send the digests that are due in this tenant; returns how many were sent
    (pushed to at least one of the person's devices or not: best effort)."""
    now = now or utcnow()
    async with tenant_session(tenant_id) as s:
        subscribed = select(PushSubscription.user_id).where(
            PushSubscription.tenant_id == tenant_id
        )
        on_digest = select(User.id).where(
            User.tenant_id == tenant_id, col(User.push_digest).is_(True)
        )
        rows = (
            await s.exec(
                select(
                    Notification.id,
                    Notification.user_id,
                    Notification.title,
                    Notification.created_at,
                )
                .where(
                    col(Notification.kind).in_(DIGEST_KINDS),
                    col(Notification.pushed_at).is_(None),
                    col(Notification.read_at).is_(None),
                    col(Notification.created_at) >= now - DIGEST_LOOKBACK,
                    col(Notification.user_id).in_(on_digest),
                    col(Notification.user_id).in_(subscribed),
                )
                .order_by(col(Notification.created_at))
                .limit(2000)
            )
        ).all()
    held: dict[uuid.UUID, list[tuple[uuid.UUID, str, datetime]]] = {}
    for note_id, user_id, title, created_at in rows:
        held.setdefault(user_id, []).append((note_id, title, created_at))
    due = {u for u, items in held.items() if items[0][2] <= now - DIGEST_EVERY}
    if not due:
        return 0
    due &= (await push_prefs(tenant_id, due, now)).awake
    wanted = [note_id for u in due for note_id, _, _ in held[u]]
    if not wanted:
        return 0
    # Claimed before sending: two sweeps at once never send the same digest.
    async with tenant_session(tenant_id) as s:
        claimed = set(
            (
                await s.execute(
                    update(Notification)
                    .where(
                        col(Notification.tenant_id) == tenant_id,
                        col(Notification.id).in_(wanted),
                        col(Notification.pushed_at).is_(None),
                    )
                    .values(pushed_at=now)
                    .returning(col(Notification.id))
                )
            )
            .scalars()
            .all()
        )
    events = []
    for user_id in due:
        titles = [t for note_id, t, _ in held[user_id] if note_id in claimed]
        if titles:
            title, body = digest_text(titles)
            events.append(LiveEvent(user_id, DIGEST_KIND, None, title, {"body": body}))
    if events:
        await send_push(tenant_id, events, now)
    return len(events)
