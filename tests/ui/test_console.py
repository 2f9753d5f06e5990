"""The console's audit pages through the real handlers: the chain page reads its
ref from the URL, the prompt loads only on the toggle, other tenants' chains are
not found, and the audit log filters, pages and exports."""

from __future__ import annotations

from typing import Any

import pytest
from reflex.istate.data import ReflexURL, RouterData

from app.core.db import tenant_session
from app.domain.models import AssistantRun
from state.audit import AuditState, ChainState
from tests.conftest import Demo
from tests.ui.conftest import call, new_tab, other_tenant_rows, sign_in, toast


@pytest.fixture
async def chain(demo: Demo, clean_db: None) -> dict[str, Any]:
    rows = await other_tenant_rows(demo, "riverside-lofts", "rita")
    async with tenant_session(rows["tenant_id"]) as s:
        s.add(
            AssistantRun(
                tenant_id=rows["tenant_id"],
                message_id=rows["message"].id,
                model="switchboard/offline",
                prompt=[
                    {"role": "system", "content": "<context>secret</context>"},
                    {"role": "user", "content": "buy a new fridge"},
                ],
                memories_withheld=True,
            )
        )
    return rows


async def _open(tab: Any, ref: str) -> tuple[ChainState, Any]:
    tab.router = RouterData(url=ReflexURL(f"http://localhost/admin/chain?ref={ref}"))
    state = await tab.get_state(ChainState)
    return state, await call(state, "load_chain")


@pytest.mark.isolation
async def test_admin_opens_a_chain_from_the_url_and_toggles_the_prompt(
    demo: Demo, chain: dict[str, Any]
) -> None:
    tab = new_tab()
    await sign_in(tab, "riverside-lofts", "admin")
    state, result = await _open(tab, f"approval:{chain['approval'].id}")
    assert result is None and state.found
    assert state.message["sender"] == "Rita Alvarez"
    assert state.message["withheld"] == "yes"
    [action] = state.actions
    assert action["approval"] == "pending" and '"{}"' not in action["payload"]
    assert state.prompt == [] and not state.show_prompt  # not sent until asked
    await call(state, "toggle_prompt")
    assert state.show_prompt and "<context>" in state.prompt[0]["content"]
    await call(state, "toggle_prompt")
    assert state.prompt == []

    other = new_tab()
    await sign_in(other, "maple-court", "admin")
    theirs, result = await _open(other, f"message:{chain['message'].id}")
    assert "No such message" in toast(result)
    assert not theirs.found and theirs.message == {}
    assert "No such message" in toast(await call(theirs, "toggle_prompt"))
    assert theirs.prompt == []


async def test_audit_tab_filters_and_exports(demo: Demo, chain: dict[str, Any]) -> None:
    tab = new_tab()
    await sign_in(tab, "riverside-lofts", "admin")
    audit = await tab.get_state(AuditState)
    await call(audit, "load_audit")
    [msg] = audit.messages
    assert msg["sender"] == "Rita Alvarez" and msg["href"].endswith(
        f"ref=message:{chain['message'].id}"
    )
    assert any(p[1] == "Rita Alvarez" for p in audit.people)
    await call(audit, "set_filter", "verdict", "deny")
    assert audit.f_verdict == "deny" and audit.total == 0
    await call(audit, "set_filter", "verdict", "<script>")
    assert audit.f_verdict == "any"
    assert "Not found." in toast(await call(audit, "set_filter", "user", "nope"))
    await call(audit, "set_filter", "from", "not a date")
    assert audit.f_from == ""
    result = await call(audit, "export_csv")
    assert "audit.csv" in str(result.args)
