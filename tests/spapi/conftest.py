"""Fixtures for the SP-API client tests. The helpers live in `spapi_testkit` (importable by name:
this folder is on the pytest `pythonpath` in pyproject.toml)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from spapi_testkit import (
    FAKE_CLIENT_ID,
    FAKE_CLIENT_SECRET,
    FAKE_REFRESH_TOKEN,
    FakeClock,
    Harness,
    LoopbackServer,
    LwaStub,
)

from spapi.config import AccountConfig
from spapi.credentials import LwaCredentials
from spapi.ratelimit import RateLimiterRegistry


@pytest.fixture
def loopback() -> Iterator[Callable[[str], LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def make(name: str) -> LoopbackServer:
        server = LoopbackServer(name)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def harness(loopback: Callable[[str], LoopbackServer]) -> Harness:
    clock = FakeClock()
    return Harness(
        lwa=LwaStub(loopback("lwa")),
        api=loopback("spapi"),
        documents=loopback("documents"),
        clock=clock,
        registry=RateLimiterRegistry(clock=clock, sleep=clock.sleep),
        account=AccountConfig(id="test-na", kind="seller", region="na", marketplaces=("ATVPDKIKX0DER",)),
        credentials=LwaCredentials(FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FAKE_REFRESH_TOKEN),
    )


@pytest.fixture
def examples_dir(shared_fixtures: Path) -> Path:
    return shared_fixtures / "spapi-examples"
