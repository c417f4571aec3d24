"""`acorn run` over every account is one run over every account's partition; `acorn backfill --account ID --since
DATE` is one run of that account's partition that re-reads it from DATE, and leaves every other account's lake
files byte for byte as they were (against the bundled simulator, as a person runs them)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest
from acorn_process import acorn

from orchestration.resources import simulated_start

pytestmark = [pytest.mark.slow]

TRANSACTIONS = dg.AssetKey(["lake", "transactions"])


def _files(lake: Path) -> dict[str, tuple[str, int]]:
    """Each lake file: its bytes' digest and when it was last written."""
    return {
        str(path.relative_to(lake)): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in sorted(lake.rglob("*.parquet"))
    }


def _files_of(lake: Path, account: str) -> dict[str, tuple[str, int]]:
    return {path: state for path, state in _files(lake).items() if f"account_id={account}" in path}


def test_a_backfill_rereads_one_account_from_its_date_and_touches_no_other(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    daily = acorn(tmp_path, "run", "--json")
    assert daily.returncode in (0, 1), daily.stdout[-2000:] + daily.stderr[-3000:]
    others = {account: _files_of(lake, account) for account in ("demo-na", "demo-vendor")}
    assert all(others.values())
    # Every file outside demo-eu's own account partitions: the others' and the settlements' (demo-eu's are
    # landed already, and a settlement document is read once).
    outside = {path: state for path, state in _files(lake).items() if "account_id=demo-eu" not in path}

    since = simulated_start().date() - timedelta(days=60)
    backfill = acorn(tmp_path, "backfill", "--account", "demo-eu", "--since", since.isoformat(), "--json")
    # The same data and checks as the daily run: the same outcome.
    assert backfill.returncode == daily.returncode, backfill.stdout[-2000:] + backfill.stderr[-3000:]
    assert json.loads(backfill.stdout)["exit_code"] == daily.returncode
    assert {account: _files_of(lake, account) for account in others} == others
    assert {
        path: state for path, state in _files(lake).items() if "account_id=demo-eu" not in path
    } == outside

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster_home")) as instance:
        runs = list(instance.get_runs(dg.RunsFilter(job_name="acorn_daily")))
        assert len(runs) == 2  # the daily run over every account is one run
        backfill_run, daily_run = runs  # newest first
        assert daily_run.tags["dagster/asset_partition_range_start"] == "demo-na"
        assert daily_run.tags["dagster/asset_partition_range_end"] == "demo-vendor"
        assert backfill_run.tags["dagster/partition"] == "demo-eu"
        assert backfill_run.tags["acorn/account"] == "demo-eu"
        assert backfill_run.tags["acorn/command"] == "backfill"
        assert backfill_run.tags["acorn/backfill_since"] == since.isoformat()
        assert set(instance.get_materialized_partitions(TRANSACTIONS)) == {
            "demo-na",
            "demo-eu",
            "demo-vendor",
        }
        [event] = [
            record.event_log_entry
            for record in instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=TRANSACTIONS, asset_partitions=["demo-eu"]), limit=5
            ).records
            if record.run_id == backfill_run.run_id
        ]
    materialization = event.asset_materialization
    assert materialization is not None
    [outcome] = materialization.metadata["accounts"].value  # type: ignore[attr-defined]
    assert outcome["account_id"] == "demo-eu"
    # The posted-date windows it read start on or before the day asked for.
    first_start = date.fromisoformat(outcome["windows"][0].split("/")[0][:10])
    assert first_start <= since, outcome["windows"]
