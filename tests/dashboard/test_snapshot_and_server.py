"""The dashboard reads a snapshot (never the published file's lock) and its server stays local and quiet."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from dashboard.server import streamlit_command, streamlit_environment
from dashboard.snapshot import NoWarehouse, SnapshotStore
from dashboard.timezones import view_time_zone
from spapi.config import AccountConfig


def _publish(warehouse: Path, value: int) -> None:
    """Publish as a build does: write a file beside it, then `os.replace` it onto the published path."""
    fresh = warehouse.with_name("fresh.duckdb")
    with duckdb.connect(str(fresh)) as connection:
        connection.execute("create schema marts; create table marts.t as select ? as v", [value])
    os.replace(fresh, warehouse)


def test_a_snapshot_holds_no_lock_on_the_published_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _publish(warehouse, 1)
    store = SnapshotStore(warehouse, tmp_path / "snapshots")
    snapshot = store.current()
    with snapshot.connect() as reader:
        assert reader.execute("select v from marts.t").fetchone() == (1,)
        # A writer (what a program holding the file read-write would block) opens the published file freely.
        with duckdb.connect(str(warehouse)) as writer:
            writer.execute("insert into marts.t values (2)")
        assert reader.execute("select count(*) from marts.t").fetchone() == (1,)


def test_a_new_build_is_a_new_snapshot_and_the_old_one_is_removed(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _publish(warehouse, 1)
    store = SnapshotStore(warehouse, tmp_path / "snapshots")
    first = store.current()
    assert store.current() is first  # unchanged file: same snapshot, no copy
    _publish(warehouse, 2)
    second = store.current()
    assert second.path != first.path and not first.path.exists()
    with second.connect() as reader:
        assert reader.execute("select v from marts.t").fetchone() == (2,)


def test_no_warehouse_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(NoWarehouse, match="acorn demo"):
        SnapshotStore(tmp_path / "warehouse.duckdb", tmp_path / "s").current()


def test_the_server_listens_on_loopback_with_telemetry_off() -> None:
    command = streamlit_command(port=8600)
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8600"
    assert options["--browser.gatherUsageStats"] == "false"
    assert options["--server.headless"] == "true"
    assert streamlit_environment({})["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    assert dict(zip(*[iter(streamlit_command(address="0.0.0.0")[5:])] * 2, strict=True))[
        "--server.address"
    ] == ("0.0.0.0")


def test_a_page_shows_its_account_zone_and_utc_when_accounts_disagree() -> None:
    zones = {"us": "America/Los_Angeles", "de": "Europe/Berlin"}
    assert view_time_zone(zones, "de") == "Europe/Berlin"
    assert view_time_zone(zones, None) == "UTC"  # two zones: neither is "the" zone
    assert view_time_zone({"us": "America/Los_Angeles"}, None) == "America/Los_Angeles"
    assert view_time_zone(zones, "not-built-yet") == "UTC"


def test_an_unknown_reporting_time_zone_is_refused_by_the_config() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        AccountConfig(id="x", region="na", reporting_time_zone="Mars/Olympus")


def test_without_a_browser_the_browser_test_skips_outside_ci_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dashboard_browser

    monkeypatch.setattr(dashboard_browser, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    monkeypatch.setattr(dashboard_browser.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="skipped outside CI"):
        dashboard_browser.browser_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"\.ci/run installs them"):
        dashboard_browser.browser_or_skip()
