"""Database access: the engines and the only ways application code opens a session.

- `tenant_session(tenant_id)`: the way to reach tenant-owned tables. Every transaction
  it begins first runs `set_config('app.tenant_id', ..., true)`, so row-level security
  restricts it to that tenant; a commit inside starts a new transaction that is scoped
  the same way.
- `platform_session()`: tenants and operators only (no tenant set, so tenant tables
  show no rows).
Both connect as the application role, which owns nothing and cannot bypass RLS. The
owner URL (DATABASE_URL) is used by migrations only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.settings import Settings, get_settings

SET_TENANT_SQL = text("SELECT set_config('app.tenant_id', :tenant_id, true)")


def _normalise(url: str) -> URL:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


def owner_url(settings: Settings | None = None) -> URL:
    s = settings or get_settings()
    if not s.database_url:
        raise RuntimeError(
            "DATABASE_URL is not set: start through `make run` / app.cli, which "
            "starts the embedded PostgreSQL, or point it at your server."
        )
    return _normalise(s.database_url)


def app_url(settings: Settings | None = None) -> URL:
    s = settings or get_settings()
    if s.app_database_url:
        return _normalise(s.app_database_url)
    from app.secrets import app_db_password

    return owner_url(s).set(username=s.app_db_role, password=app_db_password(s))


@lru_cache(maxsize=1)
def app_engine() -> AsyncEngine:
    s = get_settings()
    return create_async_engine(
        app_url(s),
        pool_size=s.db_pool_size,
        max_overflow=s.db_pool_size,
        pool_pre_ping=True,
        # A generic plan would let a filtered HNSW scan replace the exact scan that
        # retrieval relies on for small scopes (see agents/retrieval.py).
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
    )


async def dispose_engines() -> None:
    if app_engine.cache_info().currsize:
        await app_engine().dispose()
        app_engine.cache_clear()


def _scope_each_transaction(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    value = str(tenant_id)

    def _after_begin(_session: Any, _transaction: Any, connection: Any) -> None:
        connection.execute(SET_TENANT_SQL, {"tenant_id": value})

    event.listen(session.sync_session, "after_begin", _after_begin)


@asynccontextmanager
async def tenant_session(tenant_id: uuid.UUID | str) -> AsyncIterator[AsyncSession]:
    """A session that sees only `tenant_id`'s rows. Commits on success."""
    tid = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
    async with AsyncSession(app_engine(), expire_on_commit=False) as session:
        _scope_each_transaction(session, tid)
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def platform_session() -> AsyncIterator[AsyncSession]:
    """Tenants and operators; tenant-owned tables show no rows here."""
    async with AsyncSession(app_engine(), expire_on_commit=False) as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def app_role_name(settings: Settings | None = None) -> str:
    s = settings or get_settings()
    if s.app_database_url:
        return str(_normalise(s.app_database_url).username)
    return s.app_db_role
