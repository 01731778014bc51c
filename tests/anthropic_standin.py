"""A local stand-in for Anthropic's Messages API, served over real HTTP for the real SDK.

Each test scripts the answers (`Reply` objects, used in order; the last one repeats) and reads
back every request the SDK sent. Requests are checked the way the API checks them: the key (as a
bearer token or ``x-api-key``), an ``anthropic-version`` header, and the required body fields.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY = "standin-key-not-a-secret"


@dataclass
class Reply:
    """One scripted answer of POST /v1/messages."""

    status: int = 200
    tool_input: dict[str, Any] | None = None  # a tool_use answer with this input
    text: str | None = None  # a text-only answer
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    usage: dict[str, int] = field(
        default_factory=lambda: {
            "input_tokens": 1200,
            "output_tokens": 300,
            "cache_creation_input_tokens": 800,
            "cache_read_input_tokens": 0,
        }
    )


def good_answer(**changes: Any) -> dict[str, Any]:
    """A tool input that satisfies the IdealizedAnswer schema."""
    answer: dict[str, Any] = {
        "concept": "model discovery",
        "summary": "Three branches each query /api/tags. Keep one discovery function.",
        "verdict": "act",
        "verdict_reason": "Three copies of one request with different timeouts; the next fix "
        "would land in one only.",
        "ideal_design": "A single `discover_models(base_url, timeout=5.0) -> list[str]` in "
        "chatkit/models.py that raises ServerError on network failure.",
        "interface": ["def discover_models(base_url: str, timeout: float = 5.0) -> list[str]"],
        "canonical_location": "chatkit/models.py (discover_models)",
        "gaps": [
            {
                "location": "chatkit/cli.py:22",
                "current": "the CLI fetches /api/tags itself",
                "ideal": "the CLI calls discover_models and prints",
                "why": "one place to fix timeouts and errors",
            }
        ],
        "assumptions": [{"member": "cmd_models", "assumptions": ["timeout of 10 s"]}],
        "plan": ["Create discover_models", "Redirect cmd_models", "Delete the registry copy"],
        "risks": ["ModelRegistry caches; callers may rely on it"],
        "confidence": 0.8,
    }
    answer.update(changes)
    return answer


class StandIn:
    """The server's state: the script and the requests received."""

    def __init__(self) -> None:
        self.script: list[Reply] = [Reply(tool_input=good_answer())]
        self.requests: list[dict[str, Any]] = []
        self.counts: list[dict[str, Any]] = []
        self.url = ""
        self._served = 0

    @property
    def message_calls(self) -> int:
        """How many POST /v1/messages were received."""
        return len(self.requests)

    def _check(self, request: Request, body: Any) -> JSONResponse | None:
        # SDK 2.x sends the key as a bearer token; older clients as x-api-key.
        sent = request.headers.get("x-api-key") or request.headers.get("authorization", "")
        if sent.removeprefix("Bearer ") != KEY:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version header is required")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return _error(400, "invalid_request_error", "model and messages are required")
        return None

    async def messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        if (problem := self._check(request, body)) is not None:
            return problem
        if not isinstance(body.get("max_tokens"), int):
            return _error(400, "invalid_request_error", "max_tokens: field required")
        self.requests.append(body)
        reply = self.script[min(self._served, len(self.script) - 1)]
        self._served += 1
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.status != 200:
            kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(reply.status, "api_error")
            return _error(reply.status, kind, "scripted failure", reply.headers)
        content: list[dict[str, Any]] = []
        if reply.text is not None:
            content.append({"type": "text", "text": reply.text})
        if reply.tool_input is not None:
            content.append(
                {
                    "type": "tool_use",
                    "id": f"toolu_{self._served:04d}",
                    "name": body["tools"][0]["name"],
                    "input": reply.tool_input,
                }
            )
        return JSONResponse(
            {
                "id": f"msg_{self._served:04d}",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": "tool_use" if reply.tool_input is not None else "end_turn",
                "stop_sequence": None,
                "usage": reply.usage,
            },
            headers=reply.headers,
        )

    async def count_tokens(self, request: Request) -> JSONResponse:
        body = await request.json()
        if (problem := self._check(request, body)) is not None:
            return problem
        self.counts.append(body)
        # Roughly the API's ratio for English and code: four characters a token.
        return JSONResponse({"input_tokens": len(json.dumps(body)) // 4})


def _error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"type": "error", "error": {"type": kind, "message": message}},
        status_code=status,
        headers=headers,
    )


@contextmanager
def serve() -> Iterator[StandIn]:
    """Run the stand-in on a free loopback port for the duration of a test."""
    state = StandIn()
    app = Starlette(
        routes=[
            Route("/v1/messages", state.messages, methods=["POST"]),
            Route("/v1/messages/count_tokens", state.count_tokens, methods=["POST"]),
        ]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
