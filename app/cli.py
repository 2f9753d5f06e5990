"""Command line: `python -m app.cli <command>`.

  run              the whole stack: databases, migrations, demo data, worker, app
  migrate          apply migrations (owner role), creating the app role
  seed             load the demo organisations (idempotent)
  create-operator  create a platform operator account
  vector-indexes   build the own HNSW index of each tenant with many memories
                   (owner role; run it from cron, e.g. nightly)
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
from pathlib import Path

from app.core.db import dispose_engines
from app.core.embedded import stack_services
from app.core.logs import configure_logging
from app.core.migrate import upgrade
from app.core.settings import PROJECT_ROOT, get_settings
from app.core.tenant_vector_index import ensure_tenant_indexes
from app.domain.errors import DomainError
from app.services.operators import ensure_operator
from app.services.seed import DEMO_OPERATOR_EMAIL, load_demo, seed_demo

log = logging.getLogger("switchboard")


def migrate() -> None:
    upgrade()


def seed() -> None:
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


def vector_indexes() -> None:
    report = ensure_tenant_indexes()
    print(
        f"vector indexes: {len(report.created)} built in {report.build_s} s, "
        f"{report.kept} kept, {len(report.dropped)} dropped; {report.index_mb} MB"
    )


def create_operator(email: str, name: str, password: str | None) -> None:
    pw = (
        password or os.environ.get("OPERATOR_PASSWORD") or getpass.getpass("Password: ")
    )

    async def _run() -> None:
        try:
            created = await ensure_operator(email, name, pw)
            print(f"operator {email}: {'created' if created else 'password updated'}")
        finally:
            await dispose_engines()

    try:
        asyncio.run(_run())
    except DomainError as exc:
        raise SystemExit(f"error: {exc.message}") from exc


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
        try:
            vector_indexes()
        except Exception:
            # An optimisation only: retrieval works without the tenants' own
            # indexes (the shared one), so the app still starts.
            log.warning("building the tenants' vector indexes failed", exc_info=True)
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
    sub.add_parser(
        "vector-indexes", help="build the HNSW index of each tenant with many memories"
    )
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
        elif args.command == "vector-indexes":
            vector_indexes()
        elif args.command == "create-operator":
            migrate()  # a fresh server: the tables and the app role come first
            create_operator(args.email, args.name, args.password)
    return 0


if __name__ == "__main__":
    sys.exit(main())
