"""The SP-API resource starts the bundled simulator when a run first needs the SP-API, not when the run sets up
its resources: an `acorn import` (no SP-API call) never builds the demo ledger (issue 16)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from orchestration import resources
from orchestration.resources import SpApiResource


class _Clock:
    def data_now(self) -> datetime:
        return datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


class _Handle:
    """What `start_bundled_simulator` returns, without a server."""

    def __init__(self, stopped: list[int]) -> None:
        self.clock = _Clock()
        self.lwa_url = "http://127.0.0.1:1/lwa"
        self.spapi_urls = {"na": "http://127.0.0.1:2"}
        self._stopped = stopped

    def stop(self) -> None:
        self._stopped.append(1)


@pytest.fixture
def fake_start(monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[str, Any]], list[int]]:
    started: list[dict[str, Any]] = []
    stopped: list[int] = []

    def start(settings: Any, **options: Any) -> _Handle:
        started.append({"settings": dict(settings), **options})
        return _Handle(stopped)

    monkeypatch.setattr(resources, "start_bundled_simulator", start)
    return started, stopped


def _config(tmp_path: Path, simulator: bool) -> str:
    path = tmp_path / "accounts.toml"
    path.write_text("[simulator]\nenabled = true\nseed = 11\n" if simulator else "", encoding="utf-8")
    return str(path)


def test_simulator_starts_on_first_use_once_and_stops_at_teardown(
    tmp_path: Path, fake_start: tuple[list[dict[str, Any]], list[int]]
) -> None:
    started, stopped = fake_start
    resource = SpApiResource(config_path=_config(tmp_path, simulator=True))
    context = dg.build_init_resource_context()
    resource.setup_for_execution(context)
    assert started == []  # set-up alone (a run that calls no SP-API) starts nothing

    assert resource.now() == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # the simulator's clock
    assert resource.uses_simulator
    assert len(started) == 1 and started[0]["settings"]["seed"] == 11
    assert resource.now() == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert len(started) == 1  # started once per run

    resource.teardown_after_execution(context)
    assert stopped == [1]


def test_a_config_without_simulator_never_starts_one(
    tmp_path: Path, fake_start: tuple[list[dict[str, Any]], list[int]]
) -> None:
    started, _ = fake_start
    resource = SpApiResource(config_path=_config(tmp_path, simulator=False))
    context = dg.build_init_resource_context()
    resource.setup_for_execution(context)
    assert abs((resource.now() - datetime.now(UTC)).total_seconds()) < 60  # the wall clock
    assert not resource.uses_simulator
    resource.teardown_after_execution(context)
    assert started == []
