"""acorn_cli/sqlite_engines.py: the instance an `acorn` command opens keeps one SQLAlchemy engine per SQLite file,
and what it records is what Dagster's own storage reads back in another process (the UI, the next command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage

from acorn_cli.environment import dagster_instance, prepare_environment


@dg.asset
def counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset_check(asset=counted)
def counted_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"rows": 3})


def test_the_private_methods_it_replaces_exist() -> None:
    """Fails when a Dagster upgrade renames what reuse_engines replaces or reads."""
    for name in ("_connect", "_initdb", "conn_string_for_shard", "has_table", "dispose", "run_connection"):
        assert callable(getattr(SqliteEventLogStorage, name))
    assert callable(SqliteRunStorage.connect) and callable(SqliteRunStorage.dispose)


def test_one_engine_per_file_and_every_event_read_back_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_environment()
    asked: list[str] = []
    has_table = SqliteEventLogStorage.has_table

    def counted_has_table(self: SqliteEventLogStorage, name: str) -> bool:
        asked.append(name)
        return has_table(self, name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", counted_has_table)
    with dagster_instance() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, SqliteEventLogStorage)
        asked.clear()  # creating the instance asks for its own tables
        runs = []
        for _ in range(2):
            result = dg.materialize([counted, counted_has_rows], instance=instance)
            assert result.success
            runs.append(result.run_id)
        # One at a time: the storage's lock is held while a connection is open.
        with storage.run_connection(runs[0]) as first:
            pass
        with storage.run_connection(runs[0]) as second:
            assert second.engine is first.engine
        with storage.index_connection() as index:
            pass
        with storage.index_connection() as again:
            assert again.engine is index.engine
        with instance.run_storage.connect() as run_db, instance.run_storage.connect() as run_db_again:  # type: ignore[attr-defined]
            assert run_db.engine is run_db_again.engine
        # The check table was asked for once, not before every check event.
        assert asked.count("asset_check_executions") <= 1
    # Another process, with Dagster's own storage, reads each run's materialization and the check evaluation
    # linked to it.
    script = (
        "import dagster as dg\n"
        "with dg.DagsterInstance.get() as instance:\n"
        f"    for run_id in {runs!r}:\n"
        "        run = instance.get_run_by_id(run_id)\n"
        "        records = instance.get_records_for_run(run_id).records\n"
        "        entries = [r.event_log_entry for r in records if r.event_log_entry.is_dagster_event]\n"
        "        kinds = [entry.dagster_event_type.value for entry in entries]\n"
        "        print(run.status.value, kinds.count('ASSET_MATERIALIZATION'), kinds.count('ASSET_CHECK_EVALUATION'))\n"
        "    key = dg.AssetCheckKey(dg.AssetKey('counted'), 'counted_has_rows')\n"
        "    [execution] = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)\n"
        "    print(execution.run_id == " + repr(runs[-1]) + ", execution.status.value)\n"
    )
    seen = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"DAGSTER_HOME": str(home)},
    )
    assert seen.stdout.split("\n")[:3] == ["SUCCESS 1 1", "SUCCESS 1 1", "True SUCCEEDED"]
