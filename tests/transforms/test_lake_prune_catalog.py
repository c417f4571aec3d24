"""The prune of the lake's copy keeps every file the DuckLake warehouse's lake views name (orchestration/lake_prune.py)
however old: readers of the last published build read them through `lake.*` and the staging views. Against the
machine's PostgreSQL (a fresh database) and moto on loopback. Marker `cluster` (needs PostgreSQL)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from moto_store import lake_store, partition_table
from postgres_server import fresh_database

from lake.partitions import write_partition
from lake.store_upkeep import listing, plan_prune
from orchestration.lake_prune import files_the_warehouse_names
from orchestration.warehouse.ducklake_publish import (
    build_and_publish_ducklake,
    register_lake_views_in_catalog,
)
from orchestration.warehouse.lake_views import lake_datasets
from orchestration.warehouse_catalog import configured_warehouse

pytestmark = pytest.mark.cluster


def test_files_the_published_builds_lake_views_name_are_kept(
    tmp_path: Path, lake_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = lake_store(lake_env)
    lake = tmp_path / "data" / "lake"
    write_partition(lake, "transaction_totals", "account_id=a", partition_table(("a", "1", "1.00")))
    first = store.pointer("transaction_totals", "account_id=a")
    assert first is not None
    first_url = f"s3://{store.data_key('transaction_totals', 'account_id=a', first['sha256'])}"
    with fresh_database("prune-test-password") as url:
        monkeypatch.setenv("ACORN_WAREHOUSE_CATALOG_URL", url)
        warehouse_file = tmp_path / "data" / "warehouse.duckdb"
        warehouse = configured_warehouse(warehouse_file)
        assert warehouse is not None
        assert files_the_warehouse_names(warehouse_file) == set()  # no build yet: nothing named
        with build_and_publish_ducklake(warehouse, run_id="run-1", schemas=[], log=lambda _: None):
            register_lake_views_in_catalog(warehouse, lake, log=lambda _: None)
        # A landing supersedes the file the published build's views name.
        write_partition(lake, "transaction_totals", "account_id=a", partition_table(("a", "2", "2.00")))
        named = files_the_warehouse_names(warehouse_file)
    assert first_url in named and all(name.startswith("s3://") for name in named)
    assert set(lake_datasets()) - {"transaction_totals"}  # the other datasets' views name their empty files
    aged = [dataclasses.replace(item, modified=item.modified - timedelta(days=30)) for item in listing(store)]
    plan = plan_prune(store, keep_urls=named, objects=aged)
    assert plan.delete == []
    assert "lake views" in dict(plan.kept)[first_url.removeprefix("s3://")]
    # Without the views' names the same file would go.
    assert [item.key for item in plan_prune(store, objects=aged).delete] == [first_url.removeprefix("s3://")]
