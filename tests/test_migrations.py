"""Migrations go up from empty and down cleanly (on a scratch database in the
same server), and the demo seed is idempotent."""

from __future__ import annotations

import uuid
from typing import Any

from alembic import command
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from app.core.migrate import alembic_config
from app.domain.models import TENANT_TABLES


def _tables(engine: Any) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        return set(rows)


def test_upgrade_from_empty_downgrade_and_upgrade_again(owner_engine: Any) -> None:
    name = f"sb_migrations_{uuid.uuid4().hex[:8]}"
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(str(owner_engine.url.render_as_string(hide_password=False)))
    scratch_url = url.set(database=name)
    scratch = create_engine(scratch_url, poolclass=pool.NullPool)
    try:
        cfg = alembic_config(scratch_url)
        command.upgrade(cfg, "head")
        assert set(TENANT_TABLES) <= _tables(scratch)
        with scratch.connect() as conn:
            assert conn.execute(
                text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            ).scalar()
            forced = conn.execute(
                text(
                    "SELECT count(*) FROM pg_class WHERE relforcerowsecurity "
                    "AND relname = ANY(:t)"
                ),
                {"t": list(TENANT_TABLES)},
            ).scalar()
            assert forced == len(TENANT_TABLES)
        command.downgrade(cfg, "base")
        assert _tables(scratch) <= {"alembic_version"}
        command.upgrade(cfg, "head")
        assert set(TENANT_TABLES) <= _tables(scratch)
    finally:
        scratch.dispose()
        with owner_engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def test_seed_is_idempotent(demo: Any, owner_engine: Any) -> None:
    from app.services.seed import seed_demo

    def counts() -> dict[str, int]:
        with owner_engine.connect() as conn:
            return {
                t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0)
                for t in ("tenants", "users", "teams", "properties", "memories")
            }

    before = counts()
    report = await seed_demo()
    assert report.total == 0
    assert counts() == before
    assert before["tenants"] >= 3  # other tests may add tenants
