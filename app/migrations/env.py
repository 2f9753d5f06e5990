"""Alembic environment: always runs as the owner role (DATABASE_URL)."""

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import app.domain.models  # noqa: F401  (registers the tables)
from app.core.db import owner_url

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = context.config.attributes.get("url") or owner_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
