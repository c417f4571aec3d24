"""An ASGI wrapper every origin shares: logs each request (names of headers only), and can drop a connection
without answering, which is how the hostile profile simulates a connection reset."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simulator.requestlog import RequestLog

# Handlers put what the log needs (region, fault, reset) here: scope[SCOPE_KEY] is a dict.
SCOPE_KEY = "acorn.simulator"


class LoggedOrigin:
    def __init__(self, app: ASGIApp, *, origin: str, log: RequestLog) -> None:
        self.app = app
        self.origin = origin
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        notes: dict[str, Any] = {}
        scope[SCOPE_KEY] = notes
        logged = False

        def record(status: int) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            self.log.record(
                origin=self.origin,
                method=scope["method"],
                path=scope["path"],
                query_string=scope.get("query_string", b"").decode("latin-1"),
                header_names=[name.decode("latin-1") for name, _ in scope.get("headers", [])],
                status=status,
                region=notes.get("region"),
                fault=notes.get("fault"),
                usage=notes.get("usage"),
            )

        async def send_or_drop(message: Message) -> None:
            if notes.get("reset"):
                return
            if message["type"] == "http.response.start":
                # Logged before the response leaves, so a client that has its answer finds the entry.
                record(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_or_drop)
        finally:
            if notes.get("reset"):
                record(0)
                await _abort_connection(receive)
            record(0)  # no response at all (an exception before one started)


async def _abort_connection(receive: Receive) -> None:
    """Close the TCP connection with a reset and no response (uvicorn's h11 cycle exposes its transport)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None:
        transport.abort()
    # Let connection_lost run, so uvicorn sees the disconnect and does not try to answer a 500 itself.
    for _ in range(3):
        await asyncio.sleep(0)
