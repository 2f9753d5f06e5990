"""A long chat opens at its newest page and loads older pages on scroll (keyset
pages by (created_at, id)); a cursor from someone else's chat is not found."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.db import tenant_session
from app.domain.actor import Actor
from app.domain.errors import NotFound
from app.services.conversation import PAGE_SIZE, conversation_page
from state.chat import KEEP_PLACE_JS, ChatState
from tests.conftest import Demo
from tests.factories import long_conversation
from tests.ui.conftest import call, new_tab, sign_in


def _bodies(rows: list[dict[str, str]]) -> list[str]:
    return [r["body"] for r in rows]


def _history(first: int, last: int) -> list[str]:
    return [f"History {i:03d}" for i in range(first, last + 1)]


async def _seed(demo: Demo, slug: str, handle: str, count: int) -> Actor:
    user = demo.user(slug, handle)
    async with tenant_session(user.tenant_id) as s:
        await long_conversation(s, user.tenant_id, user.id, count)
    return Actor(user.tenant_id, user.id, user.role)


async def test_pages_walk_back_without_gaps_or_repeats(
    demo: Demo, clean_db: None
) -> None:
    actor = await _seed(demo, "harbor-bistro", "luis", 120)
    newest = await conversation_page(actor)
    assert [m.body for m in newest.messages] == _history(71, 120)
    assert newest.more is True
    older = await conversation_page(actor, before=newest.messages[0].id)
    assert [m.body for m in older.messages] == _history(21, 70)
    oldest = await conversation_page(actor, before=older.messages[0].id)
    assert [m.body for m in oldest.messages] == _history(1, 20)
    assert oldest.more is False
    # Refreshing a window that starts mid-history keeps it, and knows there is
    # more above it.
    window = await conversation_page(actor, since=older.messages[0].id, limit=1000)
    assert [m.body for m in window.messages] == _history(21, 120)
    assert window.more is True
    everything = await conversation_page(actor, since=oldest.messages[0].id, limit=1000)
    assert len(everything.messages) == 120 and everything.more is False


async def test_a_cursor_from_another_chat_is_not_found(
    demo: Demo, clean_db: None
) -> None:
    luis = await _seed(demo, "harbor-bistro", "luis", 3)
    maya = await _seed(demo, "harbor-bistro", "maya", 3)
    dana = await _seed(demo, "maple-court", "dana", 3)
    theirs = (await conversation_page(maya)).messages[0].id
    other_tenant = (await conversation_page(dana)).messages[0].id
    for cursor in (theirs, other_tenant):
        with pytest.raises(NotFound):
            await conversation_page(luis, before=cursor)
    # A refresh from a message that is gone shows the newest page instead.
    page = await conversation_page(luis, since=theirs)
    assert _history(1, 3) == [m.body for m in page.messages]


async def test_chat_opens_at_newest_page_and_loads_older_on_request(
    demo: Demo, clean_db: None
) -> None:
    await _seed(demo, "harbor-bistro", "luis", 130)
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    chat = await tab.get_state(ChatState)
    await call(chat, "load")
    assert _bodies(chat.messages) == _history(81, 130)
    assert chat.has_older is True
    result = await call(chat, "load_older")
    assert KEEP_PLACE_JS in str(result)
    assert _bodies(chat.messages) == _history(31, 130)
    # One separator per day, above that day's first message, across the join.
    dates = [r["date"] for r in chat.messages]
    shown = [r["day"] for r in chat.messages if r["day"]]
    assert shown == list(dict.fromkeys(dates))
    await call(chat, "load_older")
    assert _bodies(chat.messages) == _history(1, 130) and chat.has_older is False
    assert await call(chat, "load_older") is None  # nothing above: nothing to do
    # A live refresh keeps the whole history on screen; opening again starts
    # at the newest page.
    await chat._reload(await chat._actor())
    assert len(chat.messages) == 130
    await call(chat, "load")
    assert len(chat.messages) == PAGE_SIZE


async def test_day_separators_follow_the_organisations_days(
    demo: Demo, clean_db: None
) -> None:
    user = demo.user("harbor-bistro", "luis")
    async with tenant_session(user.tenant_id) as s:
        await long_conversation(s, user.tenant_id, user.id, 4, step=timedelta(hours=13))
    tab = new_tab()
    await sign_in(tab, "harbor-bistro", "luis")
    chat = await tab.get_state(ChatState)
    await call(chat, "load")
    assert chat.messages[0]["day"] == chat.messages[0]["date"] != ""
    for before, row in zip(chat.messages, chat.messages[1:], strict=False):
        assert (row["day"] != "") == (row["date"] != before["date"])
