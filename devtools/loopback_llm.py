"""An OpenAI-compatible chat server on loopback that answers with the built-in model.

    python -m devtools.loopback_llm --port 8099 &
    LLM_MODEL=openai/switchboard-offline LLM_API_BASE=http://127.0.0.1:8099/v1 \
      LLM_API_KEY=unused make eval

It exercises the hosted-model path end to end (litellm's OpenAI client, HTTP,
JSON mode, temperature and max_tokens, usage counts) without a key or a network,
so `make eval` can be checked against "a server", and a real one swapped in by
changing only LLM_API_BASE. Not for production.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agents.intents import classifier
from agents.offline_model import answer


def completion_body(request: dict[str, Any]) -> dict[str, Any]:
    messages = list(request.get("messages") or [])
    text = answer(messages)
    prompt_tokens = sum(len(str(m.get("content") or "")) for m in messages) // 4
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model") or "switchboard-offline"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(text) // 4,
            "total_tokens": prompt_tokens + len(text) // 4,
        },
    }


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            request = None
        if not self.path.endswith("/chat/completions") or not isinstance(request, dict):
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(completion_body(request)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.loopback_llm")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args(argv)
    classifier()  # trained (or loaded) before the first request, not during it
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _Handler)
    print(f"serving the built-in model on http://127.0.0.1:{args.port}/v1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
