"""Row-level security: every tenant-owned table, seen from the application role."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.db import platform_session, tenant_session
from app.domain.models import TENANT_TABLES
from tests.conftest import Demo
from tests.factories import one_of_everything

pytestmark = pytest.mark.isolation

# Columns PostgreSQL computes: never part of an INSERT.
GENERATED = {"tsv"}


@pytest.fixture(scope="module")
async def two_tenants(demo: Demo) -> tuple[uuid.UUID, uuid.UUID]:
    a = demo.tenant("maple-court").id
    b = demo.tenant("riverside-lofts").id
    for tid in (a, b):
        async with tenant_session(tid) as s:
            await one_of_everything(s, tid)
    return a, b


def test_every_tenant_table_is_listed() -> None:
    assert len(TENANT_TABLES) == 23
    assert "tenants" not in TENANT_TABLES


async def test_app_role_is_not_privileged(stack: None) -> None:
    async with platform_session() as s:
        row = (
            await s.execute(
                text(
                    "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
                    "FROM pg_roles WHERE rolname = current_user"
                )
            )
        ).one()
        assert tuple(row) == (False, False, False, False)
        owned = (
            await s.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_roles r "
                    "ON r.oid = c.relowner WHERE r.rolname = current_user"
                )
            )
        ).scalar()
        assert owned == 0


async def test_rls_enabled_and_forced_on_every_tenant_table(owner_engine: Any) -> None:
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                "WHERE relname = ANY(:t) AND relkind = 'r'"
            ),
            {"t": list(TENANT_TABLES)},
        ).all()
    assert {r[0] for r in rows} == set(TENANT_TABLES)
    assert all(r[1] and r[2] for r in rows), rows


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_select_sees_only_own_tenant(
    table: str, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = two_tenants
    async with tenant_session(a) as s:
        tenants = (
            (await s.execute(text(f"SELECT tenant_id FROM {table}"))).scalars().all()
        )
    assert tenants, f"{table}: the fixture should have made rows for tenant A"
    assert set(tenants) == {a}


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_no_tenant_sees_nothing(
    table: str, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    async with platform_session() as s:
        count = (await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
    assert count == 0


async def _a_row(table: str, tenant: uuid.UUID) -> dict[str, Any]:
    async with tenant_session(tenant) as s:
        row = (await s.execute(text(f"SELECT * FROM {table} LIMIT 1"))).mappings().one()
    return {k: v for k, v in row.items() if k not in GENERATED}


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_insert_for_other_tenant_fails(
    table: str, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = two_tenants
    row = await _a_row(table, a)
    row["tenant_id"] = b
    if "id" in row:
        row["id"] = uuid.uuid4()
    cols = ", ".join(row)
    types = [await _type(table, c) for c in row]
    params = ", ".join(f"CAST(:{c} AS {t})" for c, t in zip(row, types, strict=True))
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(a) as s:
            await s.execute(
                text(f"INSERT INTO {table} ({cols}) VALUES ({params})"),
                {k: _param(v) for k, v in row.items()},
            )


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_update_to_other_tenant_fails(
    table: str, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = two_tenants
    with pytest.raises(DBAPIError, match="row-level security"):
        async with tenant_session(a) as s:
            await s.execute(text(f"UPDATE {table} SET tenant_id = :b"), {"b": b})


@pytest.mark.parametrize("table", TENANT_TABLES)
async def test_update_and_delete_of_other_tenant_touch_nothing(
    table: str, two_tenants: tuple[uuid.UUID, uuid.UUID]
) -> None:
    a, b = two_tenants
    async with tenant_session(b) as s:
        before = (await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
    async with tenant_session(a) as s:
        res = await s.execute(
            text(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = :b"),
            {"b": b},
        )
        assert res.rowcount == 0  # type: ignore[attr-defined]
        res = await s.execute(
            text(f"DELETE FROM {table} WHERE tenant_id = :b"), {"b": b}
        )
        assert res.rowcount == 0  # type: ignore[attr-defined]
    async with tenant_session(b) as s:
        after = (await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
    assert before == after and before


async def test_commit_inside_a_tenant_session_stays_scoped(
    two_tenants: tuple[uuid.UUID, uuid.UUID],
) -> None:
    a, _ = two_tenants
    async with tenant_session(a) as s:
        await s.commit()
        seen = (await s.execute(text("SELECT DISTINCT tenant_id FROM users"))).scalars()
        assert set(seen) == {a}


_TYPES: dict[tuple[str, str], str] = {}


async def _type(table: str, column: str) -> str:
    if not _TYPES:
        async with platform_session() as s:
            rows = await s.execute(
                text(
                    "SELECT table_name, column_name, "
                    "CASE WHEN data_type = 'USER-DEFINED' THEN udt_name "
                    "WHEN data_type = 'ARRAY' THEN 'text[]' ELSE data_type END "
                    "FROM information_schema.columns WHERE table_schema = 'public'"
                )
            )
            for t, c, dt in rows:
                _TYPES[(t, c)] = dt
    return _TYPES[(table, column)]


def _param(value: Any) -> Any:
    import json

    if isinstance(value, dict | list):
        return json.dumps(value)
    return value
