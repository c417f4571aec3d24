"""Test kit for the SP-API client tests: small programmable HTTP servers on free 127.0.0.1 ports.

Each `LoopbackServer` records every request it received (method, path, query, headers, body) so tests can
assert on what actually reached which origin, and answers from a per-route queue of `Reply`s (the last one
repeats) or from a handler function. Replies can be slow, reset the connection, or cut the body short.
No test here sleeps for real: the client gets a `FakeClock` for its buckets, token cache and backoff.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from spapi.client import ClientOptions, SpApiClient
from spapi.config import AccountConfig, Endpoints
from spapi.credentials import LwaCredentials
from spapi.ratelimit import RateLimiterRegistry

FAKE_CLIENT_ID = "amzn1.application-oa2-client.testclient0001"
FAKE_CLIENT_SECRET = "amzn1.oa2-cs.v1.s3cr3t-client-secret-for-tests-0123456789"
FAKE_REFRESH_TOKEN = "Atzr|IwEBIrefresh-token-for-tests-abcdefghijklmnopqrstuvwxyz"
FIXED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (real time: keep it just above the client's read timeout)
    reset: bool = False  # drop the connection with a TCP reset instead of answering
    truncate_to: int | None = None  # announce the full Content-Length but send only this many bytes

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, default=str).encode()


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Recorded], Reply]


class LoopbackServer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], list[Reply] | Handler] = {}
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {key.lower(): value for key, value in self.headers.items()},
                    body,
                )
                reply = server._reply_for(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                payload = reply.payload()
                try:
                    if "Date" in reply.headers:  # the reply's own Date replaces the server's clock
                        self.send_response_only(reply.status)
                    else:
                        self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    if reply.truncate_to is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    if reply.truncate_to is not None:
                        self.wfile.write(payload[: reply.truncate_to])
                        self.wfile.flush()
                        self.close_connection = True
                    else:
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name=f"loopback-{name}", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, method: str, path: str, *replies: Reply, handler: Handler | None = None) -> None:
        with self._lock:
            self._routes[(method, path)] = handler if handler is not None else list(replies)

    def _reply_for(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            route = self._routes.get((recorded.method, recorded.path))
            if route is None:
                return Reply(404, {"errors": [{"code": "NotFound", "message": f"no route {recorded.path}"}]})
            if callable(route):
                handler = route
            else:
                return route.pop(0) if len(route) > 1 else route[0]
        return handler(recorded)

    def calls(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeClock:
    """Monotonic time that only moves when the code under test sleeps (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LwaStub:
    """An LWA token endpoint: issues `Atza|test-<n>` tokens and counts the exchanges."""

    def __init__(self, server: LoopbackServer, expires_in: int = 3600) -> None:
        self.server = server
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.refuse_with: str | None = None
        server.route("POST", "/auth/o2/token", handler=self._handle)

    def _handle(self, request: Recorded) -> Reply:
        form = parse_qs(request.body.decode())
        if self.refuse_with:
            return Reply(400, {"error": self.refuse_with, "error_description": "invalid grant"})
        if form.get("grant_type") != ["refresh_token"] or form.get("client_secret") != [FAKE_CLIENT_SECRET]:
            return Reply(401, {"error": "invalid_client", "error_description": "bad client"})
        token = f"Atza|test-access-token-{len(self.issued) + 1}-abcdefghijklmnop"
        self.issued.append(token)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": self.expires_in})

    @property
    def url(self) -> str:
        return self.server.url + "/auth/o2/token"


@dataclass
class Harness:
    lwa: LwaStub
    api: LoopbackServer
    documents: LoopbackServer
    clock: FakeClock
    registry: RateLimiterRegistry
    account: AccountConfig
    credentials: LwaCredentials

    def options(self, **overrides: Any) -> ClientOptions:
        settings: dict[str, Any] = {
            "clock": self.clock,
            "sleep": self.clock.sleep,
            "now": lambda: FIXED_NOW,
            "rate_limits": self.registry,
            "read_timeout": 2.0,
            "connect_timeout": 2.0,
        }
        settings.update(overrides)
        return ClientOptions(**settings)

    def client(self, **overrides: Any) -> SpApiClient:
        endpoints = Endpoints(spapi=self.api.url, lwa=self.lwa.url)
        options = self.options(**overrides)
        return SpApiClient(self.account, self.credentials, endpoints=endpoints, options=options)

    def document_url(self, name: str) -> str:
        return f"{self.documents.url}/{name}"


def decimals_only(value: Any) -> bool:
    """True when no number anywhere in `value` is a float (every number parsed as Decimal)."""
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(decimals_only(item) for item in value.values())
    if isinstance(value, list):
        return all(decimals_only(item) for item in value)
    return True


def money_amounts(value: Any) -> list[Any]:
    """Every amount of a money object in `value` (CurrencyAmount, currencyAmount, amount+currencyCode)."""
    found: list[Any] = []
    if isinstance(value, dict):
        for key in ("CurrencyAmount", "currencyAmount"):
            if key in value:
                found.append(value[key])
        if "amount" in value and "currencyCode" in value:
            found.append(value["amount"])
        for item in value.values():
            found.extend(money_amounts(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(money_amounts(item))
    return found


REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "shared"
