"""How many statements one turn sends to PostgreSQL: the claim with the tenant, the
sender and the month's tokens in one transaction and one statement, the reads for
the prompt in one, the results in one, a turn's memories in one executemany. A
change that adds round trips per turn shows here."""

from __future__ import annotations

import contextvars
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.core.db import app_engine
from app.services.messages import submit_message
from tests.pipeline.conftest import ScriptedModel, actor_of, wait_done

pytestmark = pytest.mark.usefixtures("clean_db")
TURN: contextvars.ContextVar[str | None] = contextvars.ContextVar("turn", default=None)
# Measured for this turn (no action, one memory): 13 statements (the claim with
# what the turn reads before retrieval in one; the message done, its run record and
# model call in one). The bound leaves room for a small change, not for a
# statement per row or a session per step.
MAX_STATEMENTS = 14


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    import jobs.tasks
    from app.services.turns import handle_message as real

    async def marked(
        tenant_id: uuid.UUID, message_id: uuid.UUID, *, behind: bool = False
    ) -> str:
        TURN.set(str(message_id))
        return await real(tenant_id, message_id, behind=behind)

    monkeypatch.setattr(jobs.tasks, "handle_message", marked)
    seen: dict[str, list[str]] = {}

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        turn = TURN.get()
        if turn is not None:
            seen.setdefault(turn, []).append(statement.split(None, 1)[0].upper())

    engine = app_engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


async def test_a_turn_sends_a_bounded_number_of_statements(
    demo: Any,
    worker: Any,
    scripted_model: ScriptedModel,
    statements: dict[str, list[str]],
) -> None:
    scripted_model.say(json.dumps({"reply": "Noted.", "actions": []}))
    maya = demo.user("harbor-bistro", "maya")
    sent = await submit_message(
        actor_of(maya), "The walk-in fridge door does not close well.", uuid.uuid4().hex
    )
    msg = await wait_done(maya.tenant_id, sent.message_id)
    assert msg.status == "done"
    mine = statements[str(sent.message_id)]
    print(f"\n{len(mine)} statements in one turn: {mine}")
    # The turn's memory went in (one INSERT into memories), and the turn is short.
    assert "INSERT" in mine
    assert len(mine) <= MAX_STATEMENTS, mine
