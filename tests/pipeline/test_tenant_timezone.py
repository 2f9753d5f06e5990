"""A tenant's time zone is checked where it is set; a bad stored value (from before
the check, or written by hand) no longer makes every turn of that tenant fail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from app.core.tokens import OperatorActor
from app.domain.errors import Invalid
from app.domain.models import Message
from app.services import console
from tests.pipeline.conftest import wait_done
from tests.pipeline.test_message_flow import reply_to, send

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_creating_a_tenant_with_a_misspelt_zone_is_refused(demo: Any) -> None:
    with pytest.raises(Invalid) as err:
        await console.create_tenant(
            OperatorActor(uuid.uuid4()),
            slug=f"tz-{uuid.uuid4().hex[:8]}",
            name="Typo Town",
            timezone="Europe/Lodnon",
            admin_email="admin@typo.example",
            admin_name="Admin",
            admin_password="a-long-password",
        )
    assert "Europe/Lodnon" in err.value.message


@pytest.fixture
def broken_zone(demo: Any, owner_engine: Any) -> Iterator[Any]:
    tenant = demo.tenant("harbor-bistro")
    with owner_engine.begin() as conn:
        conn.execute(
            text("UPDATE tenants SET timezone = 'Nowhere/Atlantis' WHERE id = :t"),
            {"t": tenant.id},
        )
    try:
        yield tenant
    finally:
        with owner_engine.begin() as conn:
            conn.execute(
                text("UPDATE tenants SET timezone = :z WHERE id = :t"),
                {"t": tenant.id, "z": tenant.timezone},
            )


async def test_a_stored_unknown_zone_is_read_as_utc(
    demo: Any, worker: Any, broken_zone: Any
) -> None:
    luis = demo.user("harbor-bistro", "luis")
    mid = await send(luis, "Hello!")
    msg = await wait_done(luis.tenant_id, mid)
    assert isinstance(msg, Message) and msg.status == "done"
    assert await reply_to(luis.tenant_id, mid)
