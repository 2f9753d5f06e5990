"""Live delivery: the process's stream readers (one per tenant, fanned out to tabs;
tenant and user filtering) and the listener's steps under the state lock (claim,
reload, stop)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from app.core.db import tenant_session
from app.core.live import (
    LiveEvent,
    UserEvent,
    live_hub,
    publish,
    stream_tail,
    subscribe,
)
from app.services.notifications import notify_users
from state import routes
from state.chat import ChatState
from state.live import LiveState
from state.session import SessionState
from state.work import AlertsState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, notify_one, sign_in, unread_in_rows


@pytest.mark.isolation
async def test_one_reader_per_tenant_fans_out_to_its_tabs(demo: Demo) -> None:
    harbor = demo.tenant("harbor-bistro").id
    maple = demo.tenant("maple-court").id
    luis, sam = demo.user("harbor-bistro", "luis"), demo.user("harbor-bistro", "sam")
    dana = demo.user("maple-court", "dana")
    hub = live_hub()
    async with (
        subscribe(harbor, luis.id) as tab1,
        subscribe(harbor, luis.id) as tab2,
        subscribe(harbor, sam.id) as sams_tab,
        subscribe(maple, dana.id) as other_tenant,
    ):
        # Four tabs, two tenants: two readers, one blocked XREAD each.
        assert set(hub.readers) == {harbor, maple}
        assert hub.subscribers(harbor) == 3
        reads_before = hub.readers[harbor].reads
        # dana's user id, in harbor's stream: still not dana's tenant.
        await publish(harbor, [LiveEvent(dana.id, "notify", None, "not for maple")])
        await publish(harbor, [LiveEvent(luis.id, "notify", uuid.uuid4(), "for luis")])

        got1 = (await tab1.next_batch(2))[1]
        got2 = (await tab2.next_batch(2))[1]
        assert [e.title for e in got1] == [e.title for e in got2] == ["for luis"]
        assert got1[0].notification_id
        assert (await sams_tab.next_batch(0.2))[1] == []
        assert (await other_tenant.next_batch(0.2))[1] == []
        # Read once for all three harbor tabs (a burst may take two reads).
        assert hub.readers[harbor].reads - reads_before <= 2
        # Each entry reaches a tab once.
        assert (await tab1.next_batch(0.1))[1] == []
        reader = hub.readers[harbor]
    # The last tab gone, the reader's XREAD is cancelled.
    assert harbor not in hub.readers and maple not in hub.readers
    assert reader.task is not None
    await asyncio.sleep(0)
    assert reader.task.done()


async def test_reader_stops_only_with_the_last_tab(demo: Demo) -> None:
    harbor = demo.tenant("harbor-bistro").id
    luis, sam = demo.user("harbor-bistro", "luis"), demo.user("harbor-bistro", "sam")
    hub = live_hub()
    async with subscribe(harbor, sam.id) as sams_tab:
        async with subscribe(harbor, luis.id):
            reader = hub.readers[harbor]
        assert hub.readers[harbor] is reader and hub.subscribers(harbor) == 1
        await publish(harbor, [LiveEvent(sam.id, "notify", None, "still read")])
        assert [e.title for e in (await sams_tab.next_batch(2))[1]] == ["still read"]
    assert harbor not in hub.readers


async def test_reader_blocks_until_an_event_arrives(demo: Demo) -> None:
    harbor = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")

    async def later() -> None:
        await asyncio.sleep(0.3)
        await publish(harbor, [LiveEvent(luis.id, "reply", None, "Assistant replied")])

    async with subscribe(harbor, luis.id) as tab:
        began = time.monotonic()
        task = asyncio.create_task(later())
        _, events = await tab.next_batch(5)
        await task
    assert [e.kind for e in events] == ["reply"]
    assert 0.2 < time.monotonic() - began < 4


async def test_a_reconnecting_tab_catches_up_once(demo: Demo) -> None:
    harbor = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    start = await stream_tail(harbor)
    # Published while the tab had no subscription (page change, reconnect).
    await publish(harbor, [LiveEvent(luis.id, "notify", None, "while away")])
    async with subscribe(harbor, luis.id, start) as tab:
        await publish(harbor, [LiveEvent(luis.id, "notify", None, "after")])
        after, got = await tab.next_batch(2)
        if len(got) < 2:
            after, more = await tab.next_batch(2)
            got += more
    assert [e.title for e in got] == ["while away", "after"]
    async with subscribe(harbor, luis.id, after) as tab:
        assert (await tab.next_batch(0.2))[1] == []  # nothing twice
    async with subscribe(harbor, luis.id) as fresh:
        assert (await fresh.next_batch(0.2))[1] == []  # "" = from now on


async def test_listener_claims_once_and_stops_when_superseded(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    live = await tab.get_state(LiveState)
    await call(live, "start_live")
    gen = live._live_gen
    actor = await live._claim(gen)
    assert actor is not None and actor.user_id == demo.user("harbor-bistro", "luis").id
    assert live._live_after  # starts from the stream's current tail
    assert await live._claim(gen) is None  # a second listener for the same start
    assert await live._still_current(gen, actor) == "ok"
    await call(live, "start_live")  # a newer page load
    assert await live._still_current(gen, actor) == "stop"


async def test_listener_stops_after_logout(demo: Demo) -> None:
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    live = await tab.get_state(LiveState)
    await call(live, "start_live")
    gen = live._live_gen
    actor = await live._claim(gen)
    assert actor is not None
    session = await tab.get_state(SessionState)
    await call(session, "logout")
    assert await live._still_current(gen, actor) == "stop"
    assert await live._claim(gen) is None
    assert await live._claim(live._live_gen) is None


async def test_listener_reports_a_session_revoked_elsewhere(demo: Demo) -> None:
    from app.services import auth as service

    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    live = await tab.get_state(LiveState)
    await call(live, "start_live")
    gen = live._live_gen
    actor = await live._claim(gen)
    assert actor is not None
    session = await tab.get_state(SessionState)
    await service.logout(session.refresh_token)  # e.g. signed out on another tab
    session._access_token = ""  # ... and the access token has run out
    assert await live._still_current(gen, actor) == "expired"
    assert session.role == ""


async def test_listener_without_session_does_not_start(demo: Demo) -> None:
    tab = new_tab()
    live = await tab.get_state(LiveState)
    assert await call(live, "start_live") is None  # quiet: the page load redirects
    assert await live._claim(live._live_gen) is None


async def test_events_reload_alerts_and_chat(demo: Demo, clean_db: None) -> None:
    tid = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    live = await tab.get_state(LiveState)
    await call(live, "start_live")
    actor = await live._claim(live._live_gen)
    assert actor is not None
    async with tenant_session(tid) as s:
        # Published once this transaction has committed.
        await notify_users(
            s,
            tid,
            [luis.id],
            kind="schedule",
            title="Deep clean the walk-in fridge",
            body="Friday 10pm",
            dedupe_key=f"t:{uuid.uuid4().hex}",
        )
    async with subscribe(tid, luis.id, live._live_after) as sub:
        after, got = await sub.next_batch(2)
    assert [e.title for e in got] == ["Deep clean the walk-in fridge"]

    # On another page: the badge only; the inbox loads when it opens.
    await live._apply(actor, got, routes.TASKS)
    alerts = await tab.get_state(AlertsState)
    session = await tab.get_state(SessionState)
    assert alerts.alerts == [] and session.unread == 1

    await live._apply(actor, got, routes.ALERTS)
    assert [a["title"] for a in alerts.fresh] == ["Deep clean the walk-in fridge"]
    assert session.unread == 1
    chat = await tab.get_state(ChatState)
    await call(chat, "send", {"body": "hello"})
    chat.messages = []
    reply = [got[0].__class__(after, "reply")]
    await live._apply(actor, reply, routes.ALERTS)
    assert chat.messages == []
    await live._apply(actor, reply, routes.CHAT)
    assert [m["body"] for m in chat.messages] == ["hello"]


async def test_open_inbox_adds_what_arrived_as_a_full_read_would_show_it(
    demo: Demo, clean_db: None
) -> None:
    """A tab on the inbox reads only the notifications its events name; its rows
    (fresh ones above those it opened with) are what reading it again shows, and
    the rows it opened with are not sent again unless one of their groups grew."""
    tid = demo.tenant("maple-court").id
    dana = demo.user("maple-court", "dana")
    sink, lift = str(uuid.uuid4()), str(uuid.uuid4())
    for title, task in [
        ("From Ben Carter", ""),
        ("Sink in progress", sink),
        ("From Alice Moreau", ""),
        ("Lift checked", lift),
    ]:
        await notify_one(tid, dana.id, title, task)
    tab = new_tab()
    await sign_in(tab, "maple-court", "dana")
    alerts = await tab.get_state(AlertsState)
    session = await tab.get_state(SessionState)
    await call(alerts, "load_alerts")
    live = await tab.get_state(LiveState)
    await call(live, "start_live")
    actor = await live._claim(live._live_gen)
    assert actor is not None
    opened = list(alerts.alerts)

    async def arrive(*titles: tuple[str, str]) -> list[UserEvent]:
        for title, task in titles:
            await notify_one(tid, dana.id, title, task)
        async with subscribe(tid, dana.id, live._live_after) as sub:
            live._live_after, got = await sub.next_batch(2)
        await live._apply(actor, got, routes.ALERTS)
        return got

    async def as_read_again() -> list[dict[str, str]]:
        again = new_tab()
        await sign_in(again, "maple-court", "dana")
        fresh_read = await again.get_state(AlertsState)
        await call(fresh_read, "load_alerts")
        return list(fresh_read.alerts)

    # New groups only: the rows opened with stay as they were (not resent).
    await arrive(("From Chloe", ""), ("New task", str(uuid.uuid4())))
    assert [a["title"] for a in alerts.fresh] == ["New task", "From Chloe"]
    assert alerts.alerts == opened
    assert alerts.fresh + alerts.alerts == await as_read_again()
    # Into groups of both lists: Ben's row leaves the opened ones, counted 2.
    got = await arrive(("From Ben Carter", ""), ("Sink done", sink), ("From Chloe", ""))
    assert [(a["title"], a["count"], a["unread_n"]) for a in alerts.fresh] == [
        ("From Chloe", "2", "2"),
        ("Sink done", "2", "2"),
        ("From Ben Carter", "2", "2"),
        ("New task", "1", "1"),
    ]
    assert [a["title"] for a in alerts.alerts] == ["Lift checked", "From Alice Moreau"]
    assert alerts.fresh + alerts.alerts == await as_read_again()
    assert session.unread == 9 == unread_in_rows(alerts.fresh + alerts.alerts)
    # The same events again (a listener restarted before the read): nothing added.
    before = (list(alerts.fresh), list(alerts.alerts))
    await live._apply(actor, got, routes.ALERTS)
    assert (alerts.fresh, alerts.alerts) == before
    # An event naming no notification: the inbox is read again in full.
    await live._apply(actor, [UserEvent("0-1", "approval")], routes.ALERTS)
    assert alerts.fresh == [] and alerts.alerts == await as_read_again()
    # Reading a fresh row reads the inbox again too.
    await live._apply(actor, await arrive(("From Dave", "")), routes.ALERTS)
    await call(alerts, "mark_group_read", alerts.fresh[0]["ids"])
    assert alerts.fresh == [] and session.unread == 9
