"""A slow hosted model on loopback: an OpenAI-compatible `/v1/chat/completions` that
answers after a fixed latency plus a tokens/s rate, and counts how many calls it
holds at once (`GET /stats`, `?reset=1` to start a new peak).

    python -m bench.loopback_model --port 8099 --latency 1.5 --tps 60

Used by bench/slow_model.py; litellm reaches it as `openai/<name>` with
LLM_API_BASE=http://127.0.0.1:<port>/v1. The answer is a valid turn output with no
actions; usage is reported as a provider would (its own count: characters / 4).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from aiohttp import web

ANSWER = json.dumps({"reply": "Noted, thanks.", "actions": []})


class Counter:
    def __init__(self) -> None:
        self.inflight = 0
        self.peak = 0
        self.served = 0


def app(latency_s: float, tokens_per_s: float) -> web.Application:
    counter = Counter()

    async def chat(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        counter.inflight += 1
        counter.peak = max(counter.peak, counter.inflight)
        completion_tokens = max(1, len(ANSWER) // 4)
        try:
            await asyncio.sleep(latency_s + completion_tokens / tokens_per_s)
        finally:
            counter.inflight -= 1
        counter.served += 1
        prompt_chars = sum(
            len(str(m.get("content") or "")) for m in body.get("messages") or []
        )
        prompt_tokens = max(1, prompt_chars // 4)
        return web.json_response(
            {
                "id": f"chatcmpl-loop-{counter.served}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "loopback"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": ANSWER},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def stats(request: web.Request) -> web.Response:
        out = {
            "inflight": counter.inflight,
            "peak": counter.peak,
            "served": counter.served,
        }
        if request.query.get("reset"):
            counter.peak = counter.inflight
        return web.json_response(out)

    application = web.Application(client_max_size=4 * 1024 * 1024)
    application.router.add_post("/v1/chat/completions", chat)
    application.router.add_post("/chat/completions", chat)
    application.router.add_get("/stats", stats)
    return application


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loopback_model")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=1.5)
    parser.add_argument("--tps", type=float, default=60.0, help="completion tokens/s")
    args = parser.parse_args()
    web.run_app(
        app(args.latency, args.tps),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
        backlog=1024,
    )


if __name__ == "__main__":
    main()
