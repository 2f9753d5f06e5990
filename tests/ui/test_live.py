"""Live delivery: the stream reader (tenant and user filtering) and the listener's
steps under the state lock (claim, reload, stop)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from app.core.db import tenant_session
from app.core.live import LiveEvent, publish, read_user_events, stream_tail
from app.services.notifications import notify_users
from state.chat import ChatState
from state.live import LiveState
from state.session import SessionState
from state.work import AlertsState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, sign_in


@pytest.mark.isolation
async def test_reader_sees_only_its_user_in_its_tenant(demo: Demo) -> None:
    harbor = demo.tenant("harbor-bistro").id
    maple = demo.tenant("maple-court").id
    luis, sam = demo.user("harbor-bistro", "luis"), demo.user("harbor-bistro", "sam")
    start = await stream_tail(harbor)
    await publish(harbor, [LiveEvent(sam.id, "notify", None, "for sam")])
    await publish(maple, [LiveEvent(luis.id, "notify", None, "wrong tenant")])
    await publish(harbor, [LiveEvent(luis.id, "notify", uuid.uuid4(), "for luis")])

    after, events = await read_user_events(harbor, luis.id, start, block_ms=100)

    assert [e.title for e in events] == ["for luis"]
    assert events[0].kind == "notify" and events[0].notification_id
    # Continuing from `after` does not see the same entries again.
    again, nothing = await read_user_events(harbor, luis.id, after, block_ms=50)
    assert nothing == [] and again == after


async def test_reader_blocks_until_an_event_arrives(demo: Demo) -> None:
    harbor = demo.tenant("harbor-bistro").id
    luis = demo.user("harbor-bistro", "luis")
    start = await stream_tail(harbor)

    async def later() -> None:
        await asyncio.sleep(0.3)
        await publish(harbor, [LiveEvent(luis.id, "reply", None, "Assistant replied")])

    began = time.monotonic()
    task = asyncio.create_task(later())
    _, events = await read_user_events(harbor, luis.id, start, block_ms=5000)
    await task
    assert [e.kind for e in events] == ["reply"]
    assert 0.2 < time.monotonic() - began < 4


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
    after, got = await read_user_events(tid, luis.id, live._live_after, block_ms=100)
    assert [e.title for e in got] == ["Deep clean the walk-in fridge"]

    await live._apply(actor, got)

    alerts = await tab.get_state(AlertsState)
    session = await tab.get_state(SessionState)
    assert [a["title"] for a in alerts.alerts] == ["Deep clean the walk-in fridge"]
    assert session.unread == 1
    chat = await tab.get_state(ChatState)
    await call(chat, "send", {"body": "hello"})
    chat.messages = []
    await live._apply(actor, [got[0].__class__(after, "reply")])
    assert [m["body"] for m in chat.messages] == ["hello"]
