"""`make eval`: every scenario file through the real pipeline with the model in
LLM_MODEL (the built-in `switchboard/offline`, or any litellm model), measured.

    make eval                              # the built-in model
    LLM_MODEL=openai/gpt-4o-mini LLM_API_KEY=... make eval
    LLM_MODEL=openai/local LLM_API_BASE=http://127.0.0.1:8080/v1 make eval
    make eval FILE=demo/scenarios/heldout  # one file or folder

Prints, and writes to `.data/eval/<model>.md` (or --out), one table: pass rate per
tenant and per scenario kind, tokens and latency per turn (p50/p95), cost per 1,000
turns from litellm's cost map, and every failure with its reason. It answers the
feasibility question for a model: does it serve all these tenants, how fast, at
what price. Exit status 0 only when every scenario passed.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import litellm
from sqlmodel import col, select

from app.core.db import tenant_session
from app.core.logs import configure_logging
from app.core.settings import get_settings
from app.domain.models import AssistantRun
from devtools.scenarios import HELDOUT_DIR, Result, default_paths, run_files
from devtools.stack import run_async, seed_and_embed, throwaway_stack


@dataclass(frozen=True)
class Turn:
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    cost_usd: float
    model: str


async def _turns(results: list[Result]) -> list[Turn]:
    """The assistant run of every message the scenarios sent."""
    by_tenant: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for r in results:
        if r.tenant_id is not None:
            by_tenant[r.tenant_id].extend(r.message_ids)
    turns: list[Turn] = []
    for tenant_id, ids in by_tenant.items():
        async with tenant_session(tenant_id) as s:
            runs = (
                await s.exec(
                    select(AssistantRun).where(col(AssistantRun.message_id).in_(ids))
                )
            ).all()
        turns += [
            Turn(
                r.prompt_tokens, r.completion_tokens, r.latency_ms, r.cost_usd, r.model
            )
            for r in runs
        ]
    return turns


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def cost_per_1000(turns: list[Turn], model: str) -> str:
    """From what the calls cost, else priced with litellm's cost map; "n/a" for a
    model the map does not know (the built-in model costs nothing)."""
    if not turns:
        return "n/a"
    if model.startswith("switchboard/"):
        return "$0.00"
    total = sum(t.cost_usd for t in turns)
    if total == 0:
        try:
            for t in turns:
                prompt, completion = litellm.cost_per_token(
                    model=model,
                    prompt_tokens=t.prompt_tokens,
                    completion_tokens=t.completion_tokens,
                )
                total += prompt + completion
        except Exception:  # not in the cost map
            return "n/a (not in litellm's cost map)"
    return f"${total / len(turns) * 1000:.2f}"


def _rate(rows: list[Result]) -> str:
    passed = sum(r.passed for r in rows)
    return f"{passed}/{len(rows)} ({passed / len(rows):.0%})"


def report(results: list[Result], turns: list[Turn], model: str) -> str:
    lines = [f"# Scenario eval: {model}", ""]
    lines += [f"Scenarios: {_rate(results)} passed; turns measured: {len(turns)}", ""]
    for title, key in (("tenant", "tenant"), ("kind", "kind"), ("file", "file")):
        groups: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            groups[str(getattr(r, key)) or "?"].append(r)
        lines += [f"| {title} | passed |", "|---|---|"]
        lines += [
            f"| {name} | {_rate(rows)} |" for name, rows in sorted(groups.items())
        ]
        lines.append("")
    tokens = [float(t.prompt_tokens + t.completion_tokens) for t in turns]
    prompt = [float(t.prompt_tokens) for t in turns]
    latency = [float(t.latency_ms) for t in turns]
    lines += [
        "| per turn | p50 | p95 |",
        "|---|---|---|",
        f"| prompt tokens | {percentile(prompt, 0.5):.0f} | "
        f"{percentile(prompt, 0.95):.0f} |",
        f"| total tokens | {percentile(tokens, 0.5):.0f} | "
        f"{percentile(tokens, 0.95):.0f} |",
        f"| model latency (ms) | {percentile(latency, 0.5):.0f} | "
        f"{percentile(latency, 0.95):.0f} |",
        "",
        f"Cost per 1,000 turns: {cost_per_1000(turns, model)}",
        "",
    ]
    failed = [r for r in results if not r.passed]
    if failed:
        lines += ["## Failures", ""]
        for r in failed:
            lines.append(f"- {r.file}:{r.id} ({r.tenant}, {r.kind}):")
            lines += [f"  - {reason}" for reason in r.failures]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.eval")
    parser.add_argument("files", nargs="*", help="scenario files or folders")
    parser.add_argument("--out", help="where to write the table (markdown)")
    args = parser.parse_args(argv)
    paths: list[Any] = args.files or [*default_paths(), HELDOUT_DIR]
    configure_logging("WARNING")
    model = get_settings().llm_model

    async def _run() -> tuple[list[Result], list[Turn]]:
        await seed_and_embed()
        results = await run_files(paths, out=sys.stderr)
        return results, await _turns(results)

    with throwaway_stack("sb-eval-"):
        results, turns = run_async(_run)
    text = report(results, turns, model)
    print(text)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
    out = (
        Path(args.out) if args.out else get_settings().data_dir / "eval" / f"{safe}.md"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"written to {out}", file=sys.stderr)
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
