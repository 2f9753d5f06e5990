"""Migrations go up from empty and down cleanly (on a scratch database in the
same server), and the demo seed is idempotent."""

from __future__ import annotations

import uuid
from typing import Any

from alembic import command
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

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


def test_split_conversations_are_merged_into_the_oldest(owner_engine: Any) -> None:
    """Migration 0004 repairs what concurrent first messages split (several
    conversations of one user, several integrations channels of one tenant), then
    makes a second one impossible."""
    name = f"sb_migrations_{uuid.uuid4().hex[:8]}"
    with owner_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(str(owner_engine.url.render_as_string(hide_password=False)))
    scratch_url = url.set(database=name)
    scratch = create_engine(scratch_url, poolclass=pool.NullPool)
    tenant, user, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # (conversation, owner, created minutes ago, messages in it)
    convs = [
        (uuid.uuid4(), user, 30, 2),  # the oldest of the user's: kept
        (uuid.uuid4(), user, 20, 3),
        (uuid.uuid4(), user, 10, 0),
        (uuid.uuid4(), other, 5, 1),  # another user's only one: untouched
        (uuid.uuid4(), None, 40, 1),  # integrations channel: kept
        (uuid.uuid4(), None, 1, 2),
    ]
    try:
        cfg = alembic_config(scratch_url)
        command.upgrade(cfg, "0003")
        with scratch.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tenants (id, slug, name, kind, timezone, status, "
                    "monthly_token_budget, policy, created_at) VALUES (:t, :slug, "
                    "'T', 'other', 'UTC', 'active', 1000, '{}', now())"
                ),
                {"t": tenant, "slug": f"t-{uuid.uuid4().hex[:8]}"},
            )
            for uid, handle in ((user, "u"), (other, "o")):
                conn.execute(
                    text(
                        "INSERT INTO users (tenant_id, id, handle, email, name, role, "
                        "password_hash, disabled, created_at) VALUES (:t, :u, :h, "
                        ":e, 'U', 'employee', 'x', false, now())"
                    ),
                    {"t": tenant, "u": uid, "h": handle, "e": f"{handle}@x.example"},
                )
            for conv, owner, ago, count in convs:
                conn.execute(
                    text(
                        "INSERT INTO conversations (tenant_id, id, user_id, title, "
                        "created_at) VALUES (:t, :c, :u, 'Assistant', "
                        "now() - make_interval(mins => :ago))"
                    ),
                    {"t": tenant, "c": conv, "u": owner, "ago": ago},
                )
                for i in range(count):
                    conn.execute(
                        text(
                            "INSERT INTO messages (tenant_id, id, conversation_id, "
                            "sender_user_id, sender_key, author, client_message_id, "
                            "body, source, status, attempts, created_at, updated_at) "
                            "VALUES (:t, :m, :c, :u, :k, 'user', :cid, 'hi', 'chat', "
                            "'done', 0, now(), now())"
                        ),
                        {
                            "t": tenant,
                            "m": uuid.uuid4(),
                            "c": conv,
                            "u": owner,
                            "k": f"user:{owner}",
                            "cid": f"{conv}-{i}",
                        },
                    )
        command.upgrade(cfg, "head")
        with scratch.connect() as conn:
            left = set(conn.execute(text("SELECT id FROM conversations")).scalars())
            per_conv: dict[uuid.UUID, int] = dict(
                conn.execute(
                    text(
                        "SELECT conversation_id, count(*) FROM messages "
                        "GROUP BY conversation_id"
                    )
                ).all()
            )
        assert left == {convs[0][0], convs[3][0], convs[4][0]}
        assert per_conv == {convs[0][0]: 5, convs[3][0]: 1, convs[4][0]: 3}
        with scratch.begin() as conn:
            for owner in (user, None):
                duplicate = conn.begin_nested()
                try:
                    conn.execute(
                        text(
                            "INSERT INTO conversations (tenant_id, id, user_id, "
                            "title, created_at) VALUES (:t, :c, :u, 'A', now())"
                        ),
                        {"t": tenant, "c": uuid.uuid4(), "u": owner},
                    )
                except IntegrityError:
                    duplicate.rollback()
                else:
                    raise AssertionError(f"a second conversation for {owner}")
        command.downgrade(cfg, "0003")
        command.upgrade(cfg, "head")
    finally:
        scratch.dispose()
        with owner_engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
