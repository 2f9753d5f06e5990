"""Command line: `python -m app.cli <command>`.

  run              the whole stack: databases, migrations, demo data, worker, app
  migrate          apply migrations (owner role), creating the app role
  seed             load the demo organisations (idempotent)
  create-operator  create a platform operator account
  services         start only the embedded PostgreSQL and Redis, print their URLs

With DATABASE_URL / REDIS_URL unset, commands start (or attach to) the embedded
servers in DATA_DIR for as long as they run.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.logs import configure_logging
from app.settings import PROJECT_ROOT, get_settings

log = logging.getLogger("switchboard")


@contextmanager
def stack_services() -> Iterator[None]:
    """Make DATABASE_URL and REDIS_URL point at running servers for this process
    and its children, starting the embedded ones when they are unset."""
    from app.embedded import start_embedded

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    services = start_embedded(
        settings.data_dir,
        need_postgres=not settings.database_url,
        need_redis=not settings.redis_url,
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


def migrate() -> None:
    from app.migrate import upgrade

    upgrade()


def seed() -> None:
    from app.db import dispose_engines
    from app.seed import seed_demo

    async def _run() -> None:
        try:
            report = await seed_demo()
            print(
                f"seed: {report.total} rows created {report.created or ''}, "
                f"{report.embedded} memories embedded"
            )
        finally:
            await dispose_engines()

    asyncio.run(_run())


def create_operator(email: str, name: str, password: str | None) -> None:
    from sqlmodel import select

    from app.db import dispose_engines, platform_session
    from app.models import Operator
    from app.passwords import hash_password

    pw = (
        password or os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    )
    if len(pw) < 10:
        raise SystemExit("error: the password must have at least 10 characters")

    async def _run() -> None:
        try:
            async with platform_session() as s:
                existing = (
                    await s.exec(
                        select(Operator).where(Operator.email == email.lower())
                    )
                ).first()
                if existing:
                    existing.password_hash = hash_password(pw)
                    print(f"operator {email}: password updated")
                else:
                    s.add(
                        Operator(
                            email=email.lower(),
                            name=name,
                            password_hash=hash_password(pw),
                        )
                    )
                    print(f"operator {email}: created")
        finally:
            await dispose_engines()

    asyncio.run(_run())


def _spawn(args: list[str], name: str) -> subprocess.Popen[bytes]:
    log.info("starting %s", name, extra={"cmd": " ".join(args)})
    # Own process group: on shutdown we stop each group in order, children included.
    return subprocess.Popen(args, cwd=PROJECT_ROOT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes], name: str, timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    log.info("stopped %s", name)


def print_banner() -> None:
    from app.seed import DEMO_OPERATOR_EMAIL, load_demo

    s = get_settings()
    lines = [
        "",
        f"  Switchboard is running: {s.public_url}",
        f"  API: {s.api_url}/api/health   docs: {s.api_url}/api/docs",
        f"  Demo logins (password: {s.demo_password}):",
    ]
    try:
        for tenant in load_demo()["tenants"]:
            users = ", ".join(f"{u['email']} ({u['role']})" for u in tenant["users"])
            lines.append(f"    {tenant['slug']}: {users}")
    except OSError:
        pass
    lines.append(f"    platform operator: {DEMO_OPERATOR_EMAIL}")
    lines.append("  Ctrl-C stops everything.\n")
    print("\n".join(lines), flush=True)


def run(reflex_env: str) -> int:
    """Start everything and wait; Ctrl-C (SIGINT) or SIGTERM stops it all."""
    stopping = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    s = get_settings()
    frontend_port = s.frontend_port
    if reflex_env == "prod" and frontend_port != s.backend_port:
        # Reflex in production serves the compiled frontend from the backend: one
        # port, one origin.
        frontend_port = s.backend_port
        os.environ["FRONTEND_PORT"] = str(frontend_port)
        if "PUBLIC_URL" not in os.environ:
            os.environ["PUBLIC_URL"] = s.api_url
        get_settings.cache_clear()
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    with stack_services():
        migrate()
        seed()
        py = sys.executable
        procs.append(("worker", _spawn([py, "-m", "jobs.worker"], "worker")))
        reflex = [
            py,
            "-m",
            "reflex",
            "run",
            "--env",
            reflex_env,
            "--frontend-port",
            str(frontend_port),
            "--backend-port",
            str(s.backend_port),
        ]
        procs.append(("app", _spawn(reflex, "app")))
        print_banner()
        code = 0
        try:
            while not stopping:
                for name, proc in procs:
                    if proc.poll() is not None:
                        log.error("%s exited with %s; stopping", name, proc.returncode)
                        stopping, code = True, 1
                time.sleep(0.2)
        finally:
            for name, proc in reversed(procs):
                _stop(proc, name)
    return code


def services() -> int:
    stop = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    with stack_services():
        s = get_settings()
        print(f"DATABASE_URL={s.database_url}\nREDIS_URL={s.redis_url}", flush=True)
        while not stop:
            time.sleep(0.2)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="start the whole stack")
    p_run.add_argument("--env", choices=["dev", "prod"], default="dev")
    sub.add_parser("migrate", help="apply migrations")
    sub.add_parser("seed", help="load the demo organisations")
    sub.add_parser("services", help="run the embedded PostgreSQL and Redis")
    p_op = sub.add_parser("create-operator", help="create a platform operator")
    p_op.add_argument("--email", required=True)
    p_op.add_argument("--name", default="Platform operator")
    p_op.add_argument("--password", help="or OPERATOR_PASSWORD, or asked")
    args = parser.parse_args(argv)

    configure_logging(get_settings().log_level)
    Path(get_settings().data_dir).mkdir(parents=True, exist_ok=True)
    if args.command == "run":
        return run(args.env)
    if args.command == "services":
        return services()
    with stack_services():
        if args.command == "migrate":
            migrate()
        elif args.command == "seed":
            migrate()
            seed()
        elif args.command == "create-operator":
            migrate()  # a fresh server: the tables and the app role come first
            create_operator(args.email, args.name, args.password)
    return 0


if __name__ == "__main__":
    sys.exit(main())
