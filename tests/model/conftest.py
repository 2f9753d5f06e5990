"""A loopback OpenAI-compatible server: the real litellm/openai HTTP path, offline.

Each test scripts the server's answers (status, body, headers, delay) and reads back
the requests it received, so the assertions are about what actually went over the
wire, not about what a mock was called with.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from app.core.settings import get_settings


@dataclass
class Reply:
    """One scripted answer. `body` is JSON-encoded; a callable body is called with
    the request's JSON first (answers that depend on the request)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class LoopbackLLM:
    """Scripted replies per path, in order; the last one repeats."""

    def __init__(self) -> None:
        self.replies: dict[str, list[Reply]] = {}
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, path: str, *replies: Reply) -> None:
        self.replies[path] = list(replies)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def _next(self, path: str) -> Reply:
        with self._lock:
            queue = self.replies.get(path) or [Reply(404, {"error": "no script"})]
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                request = json.loads(raw or b"{}")
                with server._lock:
                    server.requests.append(
                        Received(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            request,
                            time.monotonic(),
                        )
                    )
                reply = server._next(self.path)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                body = reply.body(request) if callable(reply.body) else reply.body
                payload = json.dumps(body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        return Handler

    def __enter__(self) -> LoopbackLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


def chat_body(
    content: str | None = None,
    *,
    tool_arguments: str | None = None,
    model: str = "gpt-4o-mini-2024-07-18",
    prompt_tokens: int = 120,
    completion_tokens: int = 30,
) -> dict[str, Any]:
    """An OpenAI chat.completion object, as the real API returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    finish = "stop"
    if tool_arguments is not None:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "respond", "arguments": tool_arguments},
            }
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def embedding_body(
    vectors: list[list[float]], encoding_format: str | None
) -> dict[str, Any]:
    """The embeddings response, in the encoding the client asked for (the openai SDK
    asks for base64 unless told otherwise)."""
    data = []
    for i, vector in enumerate(vectors):
        value: Any = vector
        if encoding_format == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }


@pytest.fixture
def llm_server() -> Iterator[LoopbackLLM]:
    with LoopbackLLM() as server:
        yield server


@pytest.fixture
def hosted_settings(
    llm_server: LoopbackLLM, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoopbackLLM]:
    """Settings pointing the chat and embedding models at the loopback server."""
    monkeypatch.setenv("LLM_MODEL", "openai/gpt-4o-mini")
    monkeypatch.setenv("LLM_API_BASE", llm_server.base_url)
    monkeypatch.setenv("LLM_API_KEY", "sk-loopback-test")
    monkeypatch.setenv("LLM_TIMEOUT_S", "5")
    monkeypatch.setenv("LLM_MAX_RETRIES", "2")
    get_settings.cache_clear()
    yield llm_server
    get_settings.cache_clear()
