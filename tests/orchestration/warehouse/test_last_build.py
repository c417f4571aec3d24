"""orchestration/warehouse/last_build.py with build_and_publish, on real files and a real DuckDB warehouse.

The fingerprint changes with every published lake file and project file a build reads, and with nothing else; a
build whose fingerprint and published file match the record yields the published warehouse unchanged (nothing
copied, nothing published); the record is removed before a publish and rewritten after it, so it never describes
another file; a warehouse rewritten by another program no longer matches its record.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.warehouse.last_build import (
    LastBuild,
    RecordedCheck,
    inputs_fingerprint,
    read_last_build,
    record_path,
)
from orchestration.warehouse.publish import build_and_publish, building_copies

DATASETS = ("settlement_lines", "settlements")
COMMAND = ("build", "--exclude-resource-type", "unit_test")


def _lake(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    for dataset in DATASETS:
        partition = lake / dataset / "settlement_id=1"
        partition.mkdir(parents=True)
        (partition / "part-0.parquet").write_bytes(b"rows of settlement 1")
    return lake


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "dbt_project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: acorn\n")
    (project / "models" / "fct.sql").write_text("select 1 as one\n")
    return project


def _fingerprint(lake: Path, project: Path) -> str:
    return inputs_fingerprint(lake, DATASETS, project, COMMAND)


def test_fingerprint_follows_the_lake_files_and_the_project(tmp_path: Path) -> None:
    lake, project = _lake(tmp_path), _project(tmp_path)
    first = _fingerprint(lake, project)
    assert _fingerprint(lake, project) == first

    new = lake / "settlement_lines" / "settlement_id=2"
    new.mkdir()
    (new / "part-0.parquet").write_bytes(b"rows of settlement 2")
    with_new_file = _fingerprint(lake, project)
    assert with_new_file != first

    # A re-issued settlement replaces its file: same name, other bytes.
    (new / "part-0.parquet").write_bytes(b"rows of settlement 2, re-issued")
    reissued = _fingerprint(lake, project)
    assert reissued not in (first, with_new_file)

    # A staged file is not published: dbt does not read it.
    staged = lake / "settlement_lines" / "settlement_id=3"
    staged.mkdir()
    (staged / "part-0.parquet.tmp").write_bytes(b"not published yet")
    assert _fingerprint(lake, project) == reissued

    (project / "models" / "fct.sql").write_text("select 2 as one\n")
    edited = _fingerprint(lake, project)
    assert edited != reissued
    assert inputs_fingerprint(lake, DATASETS, project, (*COMMAND, "--full-refresh")) != edited


def _record(fingerprint: str) -> LastBuild:
    check = dg.AssetCheckResult(
        asset_key=dg.AssetKey(["warehouse", "fct_fees"]),
        check_name="unique_fct_fees_id",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failures": 3, "status": "warn"},
    )
    return LastBuild(
        fingerprint, "run-1", "2026-01-02T03:04:05+00:00", [], [RecordedCheck.from_result(check)]
    )


def _build(warehouse: Path, fingerprint: str, rows: int) -> bool:
    """A build that creates `rows` payouts unless the warehouse is unchanged; True when it was unchanged."""
    with build_and_publish(warehouse, run_id="run-1", inputs_fingerprint=fingerprint) as build:
        if build.unchanged_since is not None:
            assert build.path == warehouse.resolve()
            assert not building_copies(warehouse)
            return True
        with duckdb.connect(str(build.path)) as connection:
            connection.execute(f"create or replace table payouts as select range as id from range({rows})")
        build.record = _record(fingerprint)
    return False


def _count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute("select count(*) from payouts").fetchone()[0]  # type: ignore[index,no-any-return]


def test_a_build_with_the_recorded_fingerprint_leaves_the_warehouse_as_it_is(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert not _build(warehouse, "inputs-1", rows=3)
    recorded = read_last_build(warehouse)
    assert recorded is not None and recorded.fingerprint == "inputs-1"
    assert recorded.describes(warehouse, "inputs-1")
    [check] = recorded.checks
    assert (check.passed, check.severity, check.metadata["failures"]) == (False, "WARN", 3)
    replayed = check.replayed({"run_id": recorded.run_id, "built_at": recorded.built_at})
    assert replayed.passed is False and replayed.severity == dg.AssetCheckSeverity.WARN
    assert replayed.metadata["evaluated_in_run"] == dg.MetadataValue.text("run-1")

    published = warehouse.stat()
    assert _build(warehouse, "inputs-1", rows=5)
    assert warehouse.stat().st_ino == published.st_ino and _count(warehouse) == 3

    # New inputs: dbt runs, the new warehouse is published and recorded.
    assert not _build(warehouse, "inputs-2", rows=5)
    assert _count(warehouse) == 5
    recorded = read_last_build(warehouse)
    assert recorded is not None and recorded.describes(warehouse, "inputs-2")
    assert not recorded.describes(warehouse, "inputs-1")


def test_a_warehouse_rewritten_by_another_program_is_rebuilt(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert not _build(warehouse, "inputs-1", rows=3)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("insert into payouts values (99)")
    recorded = read_last_build(warehouse)
    assert recorded is not None and not recorded.describes(warehouse, "inputs-1")
    assert not _build(warehouse, "inputs-1", rows=3)
    assert _count(warehouse) == 3

    # A warehouse restored from elsewhere (another inode) is not the recorded one either.
    shutil.copyfile(warehouse, tmp_path / "restored.duckdb")
    os.replace(tmp_path / "restored.duckdb", warehouse)
    assert not _build(warehouse, "inputs-1", rows=4)
    assert _count(warehouse) == 4


def test_a_failed_build_keeps_no_record_of_the_previous_one_for_the_new_inputs(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert not _build(warehouse, "inputs-1", rows=3)
    with pytest.raises(RuntimeError), build_and_publish(warehouse, inputs_fingerprint="inputs-2") as build:
        assert build.unchanged_since is None
        raise RuntimeError("dbt build failed")
    recorded = read_last_build(warehouse)
    # The published warehouse and its record are the first build's: the failed inputs are built again next time.
    assert recorded is not None and recorded.describes(warehouse, "inputs-1")
    assert not recorded.describes(warehouse, "inputs-2")


def test_a_build_without_a_record_is_never_unchanged(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    assert not _build(warehouse, "inputs-1", rows=3)
    record_path(warehouse).unlink()
    assert not _build(warehouse, "inputs-1", rows=3)
    record_path(warehouse).write_text("{not json", encoding="utf-8")
    assert read_last_build(warehouse) is None
    assert not _build(warehouse, "inputs-1", rows=3)
