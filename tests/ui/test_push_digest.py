"""The push digest: for someone who chose it, relayed messages are held and go
out as one summary push once the oldest has waited DIGEST_EVERY; news about their
own requests is still pushed at once, and everyone else gets each message."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.models import Notification, utcnow
from app.services.notifications import mark_read, notify_users
from app.services.preferences import set_preferences
from app.services.push_digest import DIGEST_EVERY, digest_text, send_digests
from app.services.push_sender import push_notifications, unpushed
from tests.conftest import Demo
from tests.ui import test_push_sender
from tests.ui.test_push_sender import Browser, PushService, _subscribe

# The local push service fixture of the sender's tests, used here too.
push_service = test_push_sender.push_service


def test_digest_text_counts_each_sender() -> None:
    titles = ["From Maya Chen", "From Sam Okafor", "From Maya Chen"]
    assert digest_text(titles) == (
        "3 new messages",
        "From Maya Chen (2) · From Sam Okafor",
    )
    assert digest_text(["From Sam Okafor"]) == ("1 new message", "From Sam Okafor")


@pytest.fixture
async def restore_preferences(demo: Demo) -> AsyncIterator[None]:
    """Users outlive clean_db: put the seeded preferences back."""
    yield
    for handle in ("luis", "priya"):
        user = demo.user("harbor-bistro", handle)
        await set_preferences(
            Actor(user.tenant_id, user.id, user.role),
            push_hours=user.push_hours,
            push_digest=False,
        )


async def _notify(
    tid: uuid.UUID, user_id: uuid.UUID, kind: str, title: str
) -> uuid.UUID:
    async with tenant_session(tid) as s:
        (new,) = await notify_users(
            s,
            tid,
            [user_id],
            kind=kind,
            title=title,
            body="the walk-in is warm",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
    return new


async def test_relayed_messages_wait_for_one_digest(
    demo: Demo,
    clean_db: None,
    push_service: PushService,
    restore_preferences: None,
) -> None:
    tid = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    sam = demo.user("harbor-bistro", "sam")
    await set_preferences(
        Actor(tid, luis.id, luis.role), push_hours=None, push_digest=True
    )
    luis_path, sam_path = f"/201/{uuid.uuid4().hex}", f"/201/{uuid.uuid4().hex}"
    luis_browser = Browser.new()
    await _subscribe(tid, luis.id, push_service.base + luis_path, luis_browser)
    await _subscribe(tid, sam.id, push_service.base + sam_path, Browser.new())

    relayed = [
        await _notify(tid, luis.id, "notify", title)
        for title in ("From Maya Chen", "From Sam Okafor", "From Maya Chen")
    ]
    seen = await _notify(tid, luis.id, "notify", "From Priya Nair")
    news = await _notify(tid, luis.id, "approval_result", "Maya Chen approved it")
    for_sam = await _notify(tid, sam.id, "notify", "From Maya Chen")

    report = await push_notifications(tid, [*relayed, seen, news, for_sam])
    assert (report.sent, report.held) == (2, 4)
    assert len([r for r in push_service.received if r.path == luis_path]) == 1
    assert len([r for r in push_service.received if r.path == sam_path]) == 1
    # Held for the digest is not "lost": the sweeper does not push them again.
    assert await unpushed(tid, 0) == []
    # Read in the app meanwhile: not in the summary.
    await mark_read(Actor(tid, luis.id, luis.role), seen)

    assert await send_digests(tid, utcnow() + DIGEST_EVERY / 2) == 0
    later = utcnow() + DIGEST_EVERY + DIGEST_EVERY / 10
    assert await send_digests(tid, later) == 1
    assert await send_digests(tid, later) == 0  # each message is summarised once
    pushes = [r for r in push_service.received if r.path == luis_path]
    assert len(pushes) == 2
    payload = luis_browser.decrypt(pushes[-1].body)
    assert (payload["title"], payload["body"]) == (
        "3 new messages",
        "From Maya Chen (2) · From Sam Okafor",
    )
    assert payload["url"] == "/alerts"
    async with tenant_session(tid) as s:
        rows = (
            await s.exec(
                select(Notification.id, Notification.pushed_at).where(
                    Notification.user_id == luis.id
                )
            )
        ).all()
    pushed = {i for i, at in rows if at is not None}
    assert set(relayed) | {news} <= pushed and seen not in pushed


async def test_no_digest_outside_push_hours(
    demo: Demo,
    clean_db: None,
    push_service: PushService,
    restore_preferences: None,
) -> None:
    """Priya on the digest, with push hours that begin four hours from now: the
    summary is due within the hour but waits, and goes out once her hours begin.
    Times are relative to now (in the tenant's zone) so the test holds at any hour."""
    from zoneinfo import ZoneInfo

    tid = demo.tenant("harbor-bistro").id
    priya = demo.user("harbor-bistro", "priya")
    zone = ZoneInfo(demo.tenant("harbor-bistro").timezone)
    now = utcnow()
    night = now + DIGEST_EVERY + timedelta(minutes=30)
    morning = now + timedelta(hours=5)
    opens = (now + timedelta(hours=4)).astimezone(zone)
    closes = (now + timedelta(hours=8)).astimezone(zone)
    hours = f"{opens:%H:%M}-{closes:%H:%M}"
    await set_preferences(
        Actor(tid, priya.id, priya.role), push_hours=hours, push_digest=True
    )
    path = f"/201/{uuid.uuid4().hex}"
    await _subscribe(tid, priya.id, push_service.base + path, Browser.new())
    await _notify(tid, priya.id, "notify", "From Maya Chen")
    assert await send_digests(tid, night) == 0
    assert await send_digests(tid, morning) == 1
    assert len([r for r in push_service.received if r.path == path]) == 1
