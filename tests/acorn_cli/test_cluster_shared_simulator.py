"""The cluster demo's one simulator for every worker (README "Scale-out"), without the cluster: the workers' config
names it as a real account's config names Amazon, a run on that config starts no simulator of its own and keeps
the simulated day's clock, and the demo's reading of the simulator's log counts requests, overruns and callers
per account and tells the workers apart by their processes."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acorn_cli.cluster_demo import SharedSimulator, accounts_config, simulator_ledger
from orchestration.resources import SpApiResource, simulated_start
from spapi.bundled_simulator import is_shared, simulator_settings
from spapi.config import load_config, resolve_endpoints

LWA = "http://127.0.0.1:40001/auth/o2/token"
SPAPI = {"na": "http://127.0.0.1:40002", "eu": "http://127.0.0.1:40003", "fe": "http://127.0.0.1:40004"}


def _shared(request_log: Path) -> SharedSimulator:
    process: Any = SimpleNamespace(pid=4242)
    return SharedSimulator(process, lwa_url=LWA, spapi_urls=SPAPI, request_log=request_log)


def test_the_workers_config_names_the_shared_simulator_as_each_accounts_endpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "cluster-accounts.toml"
    config.write_text(accounts_config(2, shared=_shared(tmp_path / "log.jsonl")), encoding="utf-8")
    loaded = load_config(config)
    assert is_shared(simulator_settings(loaded.extra))
    for account in loaded.accounts:
        endpoints = resolve_endpoints(account)
        assert endpoints.spapi == SPAPI[account.region] and endpoints.lwa == LWA

    monkeypatch.setenv("ACORN_SIMULATOR_START", "2026-03-01")
    resource = SpApiResource(config_path=str(config))
    resource.setup_for_execution(None)  # type: ignore[arg-type]
    assert resource.uses_simulator  # the demo's credentials, no SPAPI_* variables
    assert resource._running_simulator() is None  # none started in this process
    assert resource.now() == simulated_start()  # the simulated day's data_now, as the shared one shows it
    assert resource.credentials_for(loaded.accounts[0]).refresh_token.reveal().endswith(loaded.accounts[0].id)
    # A config without `shared` still starts its own (the embedded comparison run's).
    own = tmp_path / "accounts.toml"
    own.write_text(accounts_config(2), encoding="utf-8")
    assert not is_shared(simulator_settings(load_config(own).extra))


def _entry(account: str, status: int, pid: int, **extra: Any) -> dict[str, Any]:
    return {
        "origin": "spapi",
        "account": account,
        "operation": "getReports",
        "caller": f"ACORN/0.1 (Language=Python; Platform=httpx; Process={pid}@host)",
        "status": status,
        "headers": ["x-amz-access-token"],
        **extra,
    }


def test_the_ledger_counts_overruns_per_account_and_tells_workers_apart(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    entries = [
        {"origin": "lwa", "status": 200, "headers": ["content-type"]},
        _entry("sim-na-001", 200, 11),
        _entry("sim-na-001", 200, 22),
        _entry("sim-na-001", 429, 22, over_limit=True),
        _entry("sim-eu-002", 429, 22, fault="throttle"),  # injected by a hostile profile: no overrun
        _entry("sim-eu-002", 200, 99),  # a process that is no worker
        {"origin": "documents", "status": 200, "headers": ["x-amz-access-token"]},
    ]
    log.write_text("".join(json.dumps(entry) + "\n" for entry in entries), encoding="utf-8")
    ledger = simulator_ledger(_shared(log), {"cluster-w1": 11, "cluster-w2": 22, "cluster-w3": 33})
    assert ledger.requests == 5
    assert ledger.over_limit == 1
    assert ledger.overruns() == ["sim-na-001 getReports: 1 requests over the limit (429)"]
    assert ledger.usage["sim-eu-002"].injected_throttles == 1 and ledger.usage["sim-eu-002"].over_limit == 0
    assert ledger.workers_seen == ["cluster-w1", "cluster-w2"]
    assert sorted(set(ledger.callers.values()) - {"cluster-w1", "cluster-w2"}) == [
        "ACORN/0.1 (Language=Python; Platform=httpx; Process=99@host)"
    ]
    assert ledger.token_leaks == 1  # the access token sent to the documents' host
    assert ledger.operations_called_by_several() == ["sim-eu-002 getReports", "sim-na-001 getReports"]
