"""The run history's SQLite files: events committed without a disk sync each, still visible to other processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dagster._core.storage.dagster_run import DagsterRun

from acorn_cli.environment import dagster_instance, prepare_environment


def test_events_are_written_with_normal_sync_and_the_log_is_not_checkpointed_per_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_environment()
    with dagster_instance() as instance:
        run = instance.add_run(
            DagsterRun(job_name="acorn_test_job", run_id="0" * 8 + "-0000-0000-0000-" + "0" * 12)
        )
        for number in range(3):
            instance.report_engine_event(f"event {number}", run)
        storage = instance.event_log_storage
        with storage.run_connection(run.run_id) as connection:  # type: ignore[attr-defined]
            # 1 = NORMAL (SQLite's default in this build is 2 = FULL: a sync at every commit).
            assert connection.exec_driver_sql("pragma synchronous").scalar() == 1
            assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
        shard = home / "history" / "runs" / f"{run.run_id}.db"
        # Each event's connection was closed, but not as the file's last one: its log was not copied and synced
        # into the database at every close.
        assert shard.with_name(shard.name + "-wal").stat().st_size > 0
    # Another process (the UI, the next command) reads every event.
    script = (
        "import dagster as dg\n"
        "with dg.DagsterInstance.get() as instance:\n"
        f"    print(sorted(e.message for e in instance.all_logs('{run.run_id}') if e.message.startswith('event')))\n"
    )
    seen = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"DAGSTER_HOME": str(home)},
    )
    assert seen.stdout.strip() == "['event 0', 'event 1', 'event 2']"
