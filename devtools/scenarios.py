"""Scenario runner: `python -m devtools.scenarios [FILE.yaml ...]` (`make scenarios`).

Each scenario's messages go through the real pipeline: submit (PostgreSQL) →
queue (Redis) → an arq worker → retrieval → model → policy → execution, with the
scenario's clock. The outcome is read back from the database by message id and
compared with `expect` (format: demo/scenarios/README.md). Prints one line per
scenario and `N passed, M failed`; exits non-zero on any failure.

Without DATABASE_URL the runner starts its own embedded PostgreSQL and Redis in a
throwaway data directory, so it never touches the demo data of `make run`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import text as sql
from sqlmodel import col, select

from agents.intents import classifier as intent_classifier
from app.core.db import platform_session, tenant_session
from app.core.logs import configure_logging
from app.core.settings import get_settings
from app.domain.actor import Actor
from app.domain.models import (
    Approval,
    Message,
    MessageStatus,
    Notification,
    Property,
    ProposedAction,
    Schedule,
    ServiceLog,
    Task,
    Team,
    Tenant,
    Unit,
    User,
)
from app.domain.timezones import zone_or_utc
from app.services.memories import embed_pending_memories
from app.services.messages import submit_message
from app.services.seed import DEMO_NOW
from devtools.stack import run_async, seed_and_embed, throwaway_stack
from jobs.worker import running_worker

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_FILES = (PROJECT / "demo" / "scenarios",)
# Held out: measured by `make eval`, never tuned on (not in the default run).
HELDOUT_DIR = PROJECT / "demo" / "scenarios" / "heldout"
SHARED_DIR = PROJECT.parent / "shared" / "scenarios"


def wait_s() -> float:
    """How long a scenario waits for its turn: SCENARIO_WAIT_S, else enough for
    the job (which outlasts the model's timeout) and a retry."""
    raw = os.environ.get("SCENARIO_WAIT_S")
    return float(raw) if raw else float(get_settings().job_timeout_s + 15)


@dataclass
class Outcome:
    """What one message caused, read back from the database."""

    reply: str = ""
    notified: set[str] = field(default_factory=set)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    service_logs: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)  # required roles
    statuses: list[str] = field(default_factory=list)  # proposed action statuses


@dataclass
class Result:
    id: str
    failures: list[str]
    seconds: float
    tenant: str = ""
    kind: str = ""
    file: str = ""
    # Every message the scenario sent (history first): `make eval` reads their
    # assistant runs for tokens, latency and cost.
    message_ids: list[uuid.UUID] = field(default_factory=list)
    tenant_id: uuid.UUID | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files in order; a file whose content was already listed (the shipped copy
    of ../shared/scenarios) is run once."""
    out: list[Path] = []
    seen: set[bytes] = set()
    for p in map(Path, paths):
        for f in sorted(p.glob("*.yaml")) if p.is_dir() else [p]:
            content = f.read_bytes()
            if content not in seen:
                seen.add(content)
                out.append(f)
    return out


def load_scenarios(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of scenarios")
    return data


# ------------------------------------------------------------------ running


class _Names:
    """id ↔ handle/slug/label lookups for one tenant."""

    def __init__(self) -> None:
        self.users: dict[uuid.UUID, str] = {}
        self.user_ids: dict[str, User] = {}
        self.teams: dict[uuid.UUID, str] = {}
        self.props: dict[uuid.UUID, str] = {}
        self.units: dict[uuid.UUID, str] = {}

    @classmethod
    async def load(cls, tenant_id: uuid.UUID) -> _Names:
        n = cls()
        async with tenant_session(tenant_id) as s:
            for u in (await s.exec(select(User))).all():
                n.users[u.id] = u.handle
                n.user_ids[u.handle] = u
            n.teams = {t.id: t.slug for t in (await s.exec(select(Team))).all()}
            n.props = {p.id: p.slug for p in (await s.exec(select(Property))).all()}
            n.units = {u.id: u.label for u in (await s.exec(select(Unit))).all()}
        return n


async def _send_and_wait(
    actor: Actor, text: str, client_id: str, clock: datetime
) -> uuid.UUID:
    result = await submit_message(actor, text, client_id, source="api", clock=clock)
    wait = wait_s()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        async with tenant_session(actor.tenant_id) as s:
            msg = await s.get(Message, (actor.tenant_id, result.message_id))
            if msg is not None and msg.status in (
                MessageStatus.done.value,
                MessageStatus.failed.value,
            ):
                return result.message_id
        await asyncio.sleep(0.05)
    raise TimeoutError(f"message not processed within {wait:g} s")


async def _outcome(
    tenant_id: uuid.UUID, message_id: uuid.UUID, names: _Names, tz: ZoneInfo
) -> Outcome:
    def local(dt: datetime | None) -> str | None:
        return dt.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if dt else None

    out = Outcome()
    async with tenant_session(tenant_id) as s:
        reply = (
            await s.exec(select(Message).where(Message.reply_to_id == message_id))
        ).first()
        out.reply = reply.body if reply else ""
        notes = (
            await s.exec(
                select(Notification).where(
                    sql("data->>'message_id' = :m").bindparams(m=str(message_id))
                )
            )
        ).all()
        out.notified = {names.users.get(n.user_id, str(n.user_id)) for n in notes}
        actions = (
            await s.exec(
                select(ProposedAction).where(ProposedAction.message_id == message_id)
            )
        ).all()
        out.statuses = [a.status for a in actions]
        action_ids = [a.id for a in actions]
        if action_ids:
            for t in (
                await s.exec(
                    select(Task).where(col(Task.source_action_id).in_(action_ids))
                )
            ).all():
                assignee = (
                    f"user:{names.users.get(t.assignee_user_id)}"
                    if t.assignee_user_id
                    else f"team:{names.teams.get(t.assignee_team_id)}"
                    if t.assignee_team_id
                    else None
                )
                out.tasks.append(
                    {
                        "assignee": assignee,
                        "due": local(t.due_at),
                        "property": names.props.get(t.property_id),  # type: ignore[arg-type]
                        "unit": names.units.get(t.unit_id),  # type: ignore[arg-type]
                        "title": t.title,
                    }
                )
            for sc in (
                await s.exec(
                    select(Schedule).where(
                        col(Schedule.source_action_id).in_(action_ids),
                        Schedule.status == "active",
                    )
                )
            ).all():
                out.schedules.append(
                    {
                        "start": local(sc.starts_at),
                        "audience": sorted(sc.audience),
                        "property": names.props.get(sc.property_id),  # type: ignore[arg-type]
                        "unit": names.units.get(sc.unit_id),  # type: ignore[arg-type]
                        "title": sc.title,
                    }
                )
            for log in (
                await s.exec(
                    select(ServiceLog).where(
                        col(ServiceLog.source_action_id).in_(action_ids)
                    )
                )
            ).all():
                out.service_logs.append(
                    {
                        "property": names.props.get(log.property_id),  # type: ignore[arg-type]
                        "service": f"{log.service_name} {log.note}",
                    }
                )
            out.approvals = [
                a.required_role
                for a in (
                    await s.exec(
                        select(Approval).where(col(Approval.action_id).in_(action_ids))
                    )
                ).all()
            ]
    return out


# ------------------------------------------------------------------ comparing


def _mentions(text: str, words: list[str] | None) -> list[str]:
    return [w for w in words or [] if w.lower() not in (text or "").lower()]


def _match_items(
    kind: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> list[str]:
    if len(expected) != len(actual):
        return [f"{kind}: expected {len(expected)}, got {len(actual)} {actual}"]
    failures = []
    remaining = list(actual)
    for want in expected:
        best: list[str] | None = None
        for got in remaining:
            problems = []
            for key in ("assignee", "due", "start", "property", "unit"):
                if key in want and str(want[key]) != str(got.get(key)):
                    problems.append(f"{key} {got.get(key)!r} != {want[key]!r}")
            if "audience" in want and sorted(want["audience"]) != got.get("audience"):
                problems.append(f"audience {got.get('audience')} != {want['audience']}")
            for words_key, field_name in (
                ("title_mentions", "title"),
                ("service_mentions", "service"),
            ):
                missing = _mentions(got.get(field_name, ""), want.get(words_key))
                if missing:
                    problems.append(f"{field_name} lacks {missing}")
            if not problems:
                remaining.remove(got)
                best = None
                break
            best = problems if best is None else best
        else:
            failures.append(f"{kind}: no match for {want}: {'; '.join(best or [])}")
    return failures


def compare(expect: dict[str, Any], got: Outcome) -> list[str]:
    failures: list[str] = []
    want_notified = set(expect.get("notified") or [])
    if got.notified != want_notified:
        failures.append(
            f"notified {sorted(got.notified)} != expected {sorted(want_notified)}"
        )
    approval = str(expect.get("approval") or "none")
    rejected = bool(expect.get("rejected"))
    failures += _match_items("tasks", expect.get("tasks") or [], got.tasks)
    failures += _match_items("schedules", expect.get("schedules") or [], got.schedules)
    failures += _match_items(
        "service_logs", expect.get("service_logs") or [], got.service_logs
    )
    if approval == "none":
        if got.approvals:
            failures.append(f"unexpected approval request(s) {got.approvals}")
    else:
        if approval not in got.approvals:
            failures.append(f"no approval by {approval} requested ({got.approvals})")
        if "executed" in got.statuses:
            failures.append("an action ran before its approval")
    if rejected:
        # Refused outright: nothing ran, nothing waits, the sender is told. A
        # model that declines without proposing anything passes too.
        if {"executed", "pending_approval"} & set(got.statuses):
            failures.append(f"refused request still acted: {got.statuses}")
        if not got.reply:
            failures.append("the sender was not told why")
    elif "rejected" in got.statuses:
        failures.append(f"an action was refused unexpectedly: {got.statuses}")
    missing = _mentions(got.reply, expect.get("reply_mentions"))
    if missing:
        failures.append(f"reply lacks {missing}: {got.reply!r}")
    leaked = [
        w for w in expect.get("reply_excludes") or [] if w.lower() in got.reply.lower()
    ]
    if leaked:
        failures.append(f"reply contains {leaked}")
    return failures


# ------------------------------------------------------------------ driver


async def run_scenario(scenario: dict[str, Any], run_id: str) -> Result:
    """One scenario; `run_id` keeps client message ids unique per file and run."""
    started = time.perf_counter()
    sid = str(scenario.get("id", "?"))
    sent: list[uuid.UUID] = []
    tenant_id: uuid.UUID | None = None
    try:
        async with platform_session() as ps:
            tenant = (
                await ps.exec(select(Tenant).where(Tenant.slug == scenario["tenant"]))
            ).first()
        if tenant is None:
            raise LookupError(f"unknown tenant {scenario['tenant']!r}")
        tz = zone_or_utc(tenant.timezone)
        tenant_id = tenant.id
        names = await _Names.load(tenant.id)
        now_local = (
            datetime.fromisoformat(str(scenario["now"]))
            if scenario.get("now")
            else DEMO_NOW
        )
        clock = now_local.replace(tzinfo=tz)
        turns = [*(scenario.get("history") or []), scenario]
        message_id = None
        for i, turn in enumerate(turns):
            handle = turn.get("sender", scenario["sender"])
            user = names.user_ids.get(handle)
            if user is None:
                raise LookupError(f"unknown sender {handle!r} in {tenant.slug}")
            actor = Actor(tenant.id, user.id, user.role)
            message_id = await _send_and_wait(
                actor, str(turn["text"]), f"scenario:{run_id}:{sid}:{i}", clock
            )
            sent.append(message_id)
        assert message_id is not None
        got = await _outcome(tenant.id, message_id, names, tz)
        failures = compare(scenario.get("expect") or {}, got)
    except Exception as exc:  # one broken scenario must not stop the run
        failures = [f"error: {type(exc).__name__}: {exc}"]
    return Result(
        sid,
        failures,
        time.perf_counter() - started,
        tenant=str(scenario.get("tenant", "")),
        kind=scenario_kind(scenario),
        message_ids=sent,
        tenant_id=tenant_id,
    )


def scenario_kind(scenario: dict[str, Any]) -> str:
    """What a scenario tests: its `kind`, else what its expectation implies."""
    if scenario.get("kind"):
        return str(scenario["kind"])
    expect = scenario.get("expect") or {}
    if expect.get("rejected"):
        return "refusal"
    if str(expect.get("approval") or "none") != "none":
        return "approval"
    for key, kind in (
        ("service_logs", "service"),
        ("schedules", "schedule"),
        ("tasks", "task"),
    ):
        if expect.get(key):
            return kind
    if expect.get("notified"):
        return "notify"
    return "answer"


async def run_files(paths: Iterable[str | Path], out: Any = sys.stdout) -> list[Result]:
    """Run every scenario in `paths` (files or folders); prints as it goes."""
    async with platform_session() as ps:
        tenant_ids = (await ps.exec(select(Tenant.id))).all()
    for tid in tenant_ids:
        await embed_pending_memories(tid)
    if get_settings().llm_model.startswith("switchboard/"):
        await asyncio.to_thread(intent_classifier)  # not inside the first turn
    run_id = uuid.uuid4().hex[:8]
    results: list[Result] = []
    async with running_worker():
        for n, path in enumerate(scenario_files(paths)):
            for scenario in load_scenarios(path):
                result = await run_scenario(scenario, f"{run_id}:{n}")
                result.file = path.name
                results.append(result)
                status = "PASS" if result.passed else "FAIL"
                line = f"{status} {path.name}:{result.id} ({result.seconds:.2f} s)"
                if result.failures:
                    line += "\n    " + "\n    ".join(result.failures)
                print(line, file=out, flush=True)
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed", file=out, flush=True)
    return results


def default_paths() -> list[Path]:
    paths = list(DEFAULT_FILES)
    if SHARED_DIR.is_dir():
        paths.append(SHARED_DIR)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.scenarios")
    parser.add_argument("files", nargs="*", help="scenario files or folders")
    args = parser.parse_args(argv)
    paths = args.files or default_paths()
    configure_logging("WARNING")

    async def _run() -> list[Result]:
        await seed_and_embed()
        return await run_files(paths)

    with throwaway_stack("sb-scenarios-"):
        results = run_async(_run)
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
