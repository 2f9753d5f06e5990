"""The inbox groups alerts by request and by sender; reading a row reads its
group."""

from __future__ import annotations

import uuid

from app.core.db import tenant_session
from app.services.notifications import notify_users
from state.session import SessionState
from state.work import AlertsState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, sign_in


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
    assert alerts.unread_count == 6 and session.unread == 6
    ben = alerts.alerts[2]
    await call(alerts, "mark_group_read", ben["ids"])
    assert alerts.unread_count == 3 and session.unread == 3
    assert alerts.alerts[2]["unread"] == ""
