"""Apply migrations as the owner, after making sure the application role exists.

The app role owns nothing and is neither superuser nor BYPASSRLS, so row-level
security applies to everything it does. Its grants live in the migrations.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import URL

from app.core.db import app_url, owner_url
from app.core.settings import PROJECT_ROOT, Settings, get_settings


def alembic_config(url: URL | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "app" / "migrations"))
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def ensure_app_role(settings: Settings | None = None) -> None:
    """Create the login role the app uses, or reset its password to the configured
    one. Skipped when APP_DATABASE_URL is set: then the operator manages the role."""
    s = settings or get_settings()
    if s.app_database_url:
        return
    role = s.app_db_role
    password = app_url(s).password or ""
    engine = create_engine(owner_url(s), poolclass=pool.NullPool)
    with engine.begin() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
        ).scalar()
        verb = "ALTER" if exists else "CREATE"
        quoted_pw = conn.execute(
            text("SELECT quote_literal(:p)"), {"p": password}
        ).scalar()
        conn.execute(
            text(
                f'{verb} ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB '
                f"NOCREATEROLE PASSWORD {quoted_pw}"
            )
        )
    engine.dispose()


def upgrade(revision: str = "head") -> None:
    ensure_app_role()
    command.upgrade(alembic_config(), revision)


def downgrade(revision: str = "base") -> None:
    command.downgrade(alembic_config(), revision)
