"""Fixtures for the simulator tests: the real ledger, running simulators, and a schema-validating caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from simkit import Caller, ModelSchemas, fetch_token, make_caller

from simulator import SimulatorHandle, start_simulator
from simulator.clock import default_start
from simulator.ledger import Ledger


@pytest.fixture(scope="session")
def model_schemas(shared_fixtures: Path) -> ModelSchemas:
    return ModelSchemas(shared_fixtures / "spapi-models")


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    """The real synthetic ledger, built once per session (each simulator serves it read-only)."""
    return Ledger(seed=7, today=default_start().date())


@pytest.fixture
def start(ledger: Ledger) -> Iterator[Callable[..., SimulatorHandle]]:
    handles: list[SimulatorHandle] = []

    def make(**options: Any) -> SimulatorHandle:
        options.setdefault("ledger", ledger)
        handle = start_simulator(**options)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()


@pytest.fixture
def sim(start: Callable[..., SimulatorHandle]) -> SimulatorHandle:
    return start(time_scale=1.0)


@pytest.fixture
def api(sim: SimulatorHandle, model_schemas: ModelSchemas) -> Iterator[Caller]:
    caller = Caller(sim, model_schemas, fetch_token(sim))
    yield caller
    caller.client.close()


@pytest.fixture
def caller_factory(model_schemas: ModelSchemas) -> Callable[[SimulatorHandle], Caller]:
    return lambda sim: make_caller(sim, model_schemas)
