"""Database access: the engines and the only ways application code opens a session.

Work that must follow a change (a live event, a queued job) is registered on the
session with `after_commit`; it runs once the transaction has committed, and never
if it rolled back, so the code that changes things does not thread event lists
back to its callers (the pattern of Zulip's send_event_on_commit).

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

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.secrets import app_db_password
from app.core.settings import Settings, get_settings
from app.domain.errors import Conflict, duplicate

log = logging.getLogger(__name__)
SET_TENANT_DRIVER_SQL = "SELECT set_config('app.tenant_id', %s, true)"
AfterCommit = Callable[[], Awaitable[object]]
T = TypeVar("T")
_PENDING = "sb_after_commit_pending"  # registered in the open transaction
_READY = "sb_after_commit_ready"  # committed: run when the session closes
_LOCALS = "sb_transaction_locals"
_TENANT = "sb_tenant_id"  # the tenant every transaction of the session is scoped to
UNIQUE_VIOLATION = "23505"


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
        # connect_timeout: a database that is down answers "unavailable" within
        # seconds instead of holding the request until the kernel gives up.
        connect_args={
            "options": "-c plan_cache_mode=force_custom_plan",
            "connect_timeout": 5,
        },
    )


async def dispose_engines() -> None:
    if app_engine.cache_info().currsize:
        await app_engine().dispose()
        app_engine.cache_clear()


class _AppSyncSession(Session):
    """The sessions `_session` opens: their transactions are scoped to the tenant
    in `info` and their after-commit work is tracked, by listeners registered
    once on this class (registering them per session costs every turn)."""


class _AppSession(AsyncSession):
    sync_session_class = _AppSyncSession


@event.listens_for(_AppSyncSession, "after_begin")
def _scope_transaction(session: Session, _transaction: Any, connection: Any) -> None:
    tenant = session.info.get(_TENANT)
    if tenant is not None:
        # Straight to the driver: one statement per transaction on every path,
        # so SQLAlchemy's statement compile and result machinery is skipped.
        connection.exec_driver_sql(SET_TENANT_DRIVER_SQL, (tenant,))


@event.listens_for(_AppSyncSession, "after_commit")
def _committed(session: Session) -> None:
    info = session.info
    info.setdefault(_READY, []).extend(info.pop(_PENDING, []))
    info.pop(_LOCALS, None)


@event.listens_for(_AppSyncSession, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_LOCALS, None)


def after_commit(session: AsyncSession, fn: AfterCommit) -> None:
    """Run `fn()` once the session's current transaction has committed (when the
    session closes); drop it if the transaction rolls back. Failures are logged:
    what runs here is a notification of a change that PostgreSQL already holds,
    and the sweeper recovers whatever it fails to do."""
    session.info.setdefault(_PENDING, []).append(fn)


def per_transaction(
    session: AsyncSession,
    key: str,
    make: Callable[[], T],
    flush: Callable[[T], Awaitable[object]],
) -> T:
    """A value collected during the current transaction (created by `make` on
    first use) and handed to `flush` once it has committed: one batch of live
    events per transaction instead of one publish per row."""
    locals_: dict[str, Any] = session.info.setdefault(_LOCALS, {})
    if key not in locals_:
        value = make()
        locals_[key] = value
        after_commit(session, lambda: flush(value))
    result: T = locals_[key]
    return result


async def _run_committed(session: AsyncSession) -> None:
    for fn in session.info.pop(_READY, []):
        try:
            await fn()
        except Exception:
            log.warning("after-commit work failed", exc_info=True)


def unique_violation(exc: IntegrityError) -> Conflict | None:
    """The Conflict for a unique violation (SQLSTATE 23505), else None.

    Every check-then-insert on a unique key (a user's email, a tenant's slug, ...)
    can lose a race to a concurrent insert between its check and its insert; the
    database's constraint is what decides, and the loser is told it conflicts,
    exactly as if its check had seen the row."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) != UNIQUE_VIOLATION:
        return None
    return duplicate(getattr(getattr(orig, "diag", None), "table_name", None))


@asynccontextmanager
async def _session(tenant_id: uuid.UUID | None) -> AsyncIterator[AsyncSession]:
    info = {} if tenant_id is None else {_TENANT: str(tenant_id)}
    session = _AppSession(app_engine(), expire_on_commit=False, info=info)
    try:
        async with session:
            try:
                yield session
                await session.commit()
            except BaseException as exc:
                await session.rollback()
                session.info.pop(_PENDING, None)
                session.info.pop(_LOCALS, None)
                conflict = (
                    unique_violation(exc) if isinstance(exc, IntegrityError) else None
                )
                if conflict is not None:
                    raise conflict from exc
                raise
    finally:
        # After the connection went back to the pool: what follows a commit
        # (publishing, queueing) never holds a database connection.
        await _run_committed(session)


@asynccontextmanager
async def tenant_session(tenant_id: uuid.UUID | str) -> AsyncIterator[AsyncSession]:
    """A session that sees only `tenant_id`'s rows. Commits on success."""
    tid = tenant_id if isinstance(tenant_id, uuid.UUID) else uuid.UUID(str(tenant_id))
    async with _session(tid) as session:
        yield session


@asynccontextmanager
async def platform_session() -> AsyncIterator[AsyncSession]:
    """Tenants and operators; tenant-owned tables show no rows here."""
    async with _session(None) as session:
        yield session


def app_role_name(settings: Settings | None = None) -> str:
    s = settings or get_settings()
    if s.app_database_url:
        return str(_normalise(s.app_database_url).username)
    return s.app_db_role
