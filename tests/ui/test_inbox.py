"""The inbox groups alerts by request and by sender; reading a row reads its
group."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from dataclasses import dataclass

import pytest
from sqlmodel import select

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.models import Notification
from app.services import inbox as inbox_service
from app.services.notifications import notify_users
from state.session import SessionState
from state.work import AlertsState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, notify_one, sign_in, unread_in_rows


@dataclass
class Read:
    """One call of read_inboxes: one query for these users."""

    users: list[uuid.UUID]
    limit: int
    named: set[uuid.UUID]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Read]:
    """The inbox reads made while the test runs (they still read)."""
    seen: list[Read] = []
    read = inbox_service.read_inboxes

    async def counted(
        tenant_id: uuid.UUID,
        users: list[uuid.UUID],
        limit: int,
        named: Collection[uuid.UUID] = (),
    ) -> dict[uuid.UUID, inbox_service.Inbox]:
        seen.append(Read(list(users), limit, set(named)))
        return await read(tenant_id, users, limit, named)

    monkeypatch.setattr(inbox_service, "read_inboxes", counted)
    return seen


async def test_alerts_group_by_sender_and_by_request(
    demo: Demo, clean_db: None
) -> None:
    tid = demo.tenant("maple-court").id
    dana = demo.user("maple-court", "dana")
    task_id = str(uuid.uuid4())
    async with tenant_session(tid) as s:
        for body in ("Hi!", "Hi!", "The sink in 4B leaks"):
            await notify_users(
                s,
                tid,
                [dana.id],
                kind="notify",
                title="From Ben Carter",
                body=body,
                dedupe_key=f"t:{uuid.uuid4().hex}",
            )
        for status in ("in progress", "done"):
            await notify_users(
                s,
                tid,
                [dana.id],
                kind="request",
                title=f"Sink {status}",
                body="",
                dedupe_key=f"t:{uuid.uuid4().hex}",
                data={"task_id": task_id},
            )
        await notify_users(
            s,
            tid,
            [dana.id],
            kind="notify",
            title="From Alice Moreau",
            body="Parcel",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
    tab = new_tab()
    await sign_in(tab, "maple-court", "dana")
    alerts = await tab.get_state(AlertsState)
    session = await tab.get_state(SessionState)
    await call(alerts, "load_alerts")
    rows = [(a["title"], a["body"], a["count"]) for a in alerts.alerts]
    assert rows == [
        ("From Alice Moreau", "Parcel", "1"),
        ("Sink done", "", "2"),
        ("From Ben Carter", "The sink in 4B leaks", "3"),
    ]
    assert session.unread == 6 == unread_in_rows(alerts.alerts)
    ben = alerts.alerts[2]
    await call(alerts, "mark_group_read", ben["ids"])
    assert session.unread == 3 == unread_in_rows(alerts.alerts)
    assert alerts.alerts[2]["unread"] == ""


async def test_one_notification_per_recipient_and_cause_however_often_written(
    demo: Demo, clean_db: None
) -> None:
    """A whole audience in one statement: duplicates in the list count once, a
    re-run adds nothing, and a later run with one more recipient adds only that
    one; the ids returned are those of the rows added, in the audience's order."""
    tid = demo.tenant("maple-court").id
    dana, ben = demo.user("maple-court", "dana"), demo.user("maple-court", "ben")
    key = f"t:{uuid.uuid4().hex}"

    async def write(users: list[uuid.UUID]) -> list[uuid.UUID]:
        async with tenant_session(tid) as s:
            return await notify_users(
                s, tid, users, kind="notify", title="Water off", body="", dedupe_key=key
            )

    first = await write([dana.id, dana.id])
    assert len(first) == 1
    assert await write([dana.id]) == []
    added = await write([ben.id, dana.id])
    assert len(added) == 1 and added[0] not in first
    async with tenant_session(tid) as s:
        rows = (
            await s.exec(select(Notification).where(Notification.dedupe_key == key))
        ).all()
    assert {(r.user_id, r.id) for r in rows} == {
        (dana.id, first[0]),
        (ben.id, added[0]),
    }
    async with tenant_session(tid) as s:
        assert (
            await notify_users(
                s, tid, [], kind="notify", title="x", body="", dedupe_key=key
            )
            == []
        )


async def test_inboxes_read_at_once_share_one_query_each_gets_its_own(
    demo: Demo, clean_db: None, reads: list[Read]
) -> None:
    tid = demo.tenant("maple-court").id
    people = [demo.user("maple-court", h) for h in ("dana", "omar", "grace", "ben")]
    for n, person in enumerate(people):
        for i in range(n + 1):
            await notify_one(tid, person.id, f"For {person.handle} {i}")
    other = demo.user("harbor-bistro", "luis")
    await notify_one(demo.tenant("harbor-bistro").id, other.id, "For luis")
    actors = [Actor(tid, p.id, p.role) for p in people]
    got = await asyncio.gather(*(inbox_service.inbox(a, 2) for a in actors))
    assert len(reads) == 1 and sorted(reads[0].users) == sorted(p.id for p in people)
    for n, (person, mine) in enumerate(zip(people, got, strict=True)):
        # Newest first, at most the limit; the unread count is all of them.
        newest = [f"For {person.handle} {i}" for i in range(n, -1, -1)][:2]
        assert [item.title for item in mine.items] == newest
        assert mine.unread == n + 1
    alone = await inbox_service.inbox(Actor(other.tenant_id, other.id, other.role))
    assert [item.title for item in alone.items] == ["For luis"]
    assert await inbox_service.unread_count(actors[3]) == 4


async def test_what_arrived_is_read_by_id_together_each_only_its_own(
    demo: Demo, clean_db: None, reads: list[Read]
) -> None:
    """A tab on the inbox reads what its events named, not the newest 200 again;
    the tabs a notification reaches read at once, in one query. An id that is
    someone else's (a tampered event, another tab's) gives nothing."""
    tid = demo.tenant("maple-court").id
    dana, omar = (demo.user("maple-court", h) for h in ("dana", "omar"))
    old = await notify_one(tid, dana.id, "Earlier")
    for_dana = [await notify_one(tid, dana.id, f"New {i}") for i in range(2)]
    for_omar = await notify_one(tid, omar.id, "For omar")
    luis = demo.user("harbor-bistro", "luis")
    elsewhere = await notify_one(demo.tenant("harbor-bistro").id, luis.id, "Other org")
    as_dana, as_omar = (Actor(tid, p.id, p.role) for p in (dana, omar))
    mine, his, tampered = await asyncio.gather(
        inbox_service.arrived(as_dana, for_dana),
        inbox_service.arrived(as_omar, [for_omar]),
        # Omar's tab naming Dana's notification and another organisation's.
        inbox_service.arrived(as_omar, [for_dana[0], elsewhere]),
    )
    assert len(reads) == 1 and reads[0].limit == inbox_service.NAMED
    assert reads[0].named == {*for_dana, for_omar, elsewhere}
    assert [i.title for i in mine.items] == ["New 1", "New 0"]  # newest first
    assert mine.unread == 3  # the count is all of them, not only those named
    assert [i.title for i in his.items] == ["For omar"] and his.unread == 1
    assert tampered.items == [] and tampered.unread == 1
    assert old not in {i.id for i in mine.items}
    nothing = await inbox_service.arrived(as_dana, [])
    assert nothing.items == [] and nothing.unread == 3


async def test_a_failed_inbox_read_fails_every_caller_and_the_next_read_works(
    demo: Demo, clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = demo.tenant("maple-court").id
    people = [demo.user("maple-court", h) for h in ("dana", "omar")]
    await notify_one(tid, people[0].id, "Still here")
    read = inbox_service.read_inboxes
    failures = [RuntimeError("database went away")]

    async def failing_once(
        tenant_id: uuid.UUID,
        users: list[uuid.UUID],
        limit: int,
        named: Collection[uuid.UUID] = (),
    ) -> dict[uuid.UUID, inbox_service.Inbox]:
        if failures:
            raise failures.pop()
        return await read(tenant_id, users, limit, named)

    monkeypatch.setattr(inbox_service, "read_inboxes", failing_once)
    actors = [Actor(tid, p.id, p.role) for p in people]
    outcomes = await asyncio.gather(
        *(inbox_service.inbox(a) for a in actors), return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    again = await inbox_service.inbox(actors[0])
    assert [item.title for item in again.items] == ["Still here"]
