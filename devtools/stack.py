"""A throwaway stack for tools that need the real pipeline: embedded PostgreSQL and
Redis in a temporary data directory (unless DATABASE_URL points at a server),
migrated and seeded with the demo organisations; removed afterwards. Used by
`make scenarios`, `make eval` and `make bench`, so none of them touches the data of
`make run`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlmodel import select

from app.core.db import dispose_engines, platform_session
from app.core.embedded import stack_services
from app.core.migrate import upgrade
from app.core.queue import close_pools
from app.core.settings import get_settings
from app.domain.models import Tenant
from app.services.memories import embed_pending_memories
from app.services.seed import seed_demo

T = TypeVar("T")


@contextmanager
def throwaway_stack(prefix: str) -> Iterator[None]:
    """Servers up and migrated for the duration of the block."""
    data_dir: Path | None = None
    if not os.environ.get("DATABASE_URL"):
        data_dir = Path(tempfile.mkdtemp(prefix=prefix))
        data_dir.chmod(0o755)  # the embedded server may run as its own user
        os.environ["DATA_DIR"] = str(data_dir)
        get_settings.cache_clear()
    try:
        with stack_services():
            upgrade()
            yield
    finally:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


async def seed_and_embed() -> list[Tenant]:
    """The demo organisations, with every memory embedded (retrieval needs them)."""
    await seed_demo()
    async with platform_session() as ps:
        tenants = list((await ps.exec(select(Tenant))).all())
    for tenant in tenants:
        await embed_pending_memories(tenant.id)
    return tenants


def run_async(main: Callable[[], Awaitable[T]]) -> T:
    """asyncio.run, closing the queue pools and database engines afterwards."""

    async def _run() -> T:
        try:
            return await main()
        finally:
            await close_pools()
            await dispose_engines()

    return asyncio.run(_run())
