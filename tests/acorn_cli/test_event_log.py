"""The embedded instance's event log (acorn_cli/event_log.py): one SQLAlchemy engine per SQLite file for the
process's life, the same files and tables as Dagster's default storage, and each event visible at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dagster._core.storage.dagster_run import DagsterRun

from acorn_cli.environment import dagster_instance, prepare_environment
from acorn_cli.event_log import AcornSqliteEventLogStorage

RUN_ID = "1" * 8 + "-0000-0000-0000-" + "0" * 12


def test_events_go_through_one_engine_per_file_into_dagsters_default_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_environment()
    with dagster_instance() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, AcornSqliteEventLogStorage)
        run = instance.add_run(DagsterRun(job_name="acorn_test_job", run_id=RUN_ID))
        engines = []
        for number in range(5):
            instance.report_engine_event(f"event {number}", run)
            engines.append(storage._engines[run.run_id])
            # Each event is committed at once: another connection of this process reads it.
            assert [e.message for e in instance.all_logs(run.run_id)][-1] == f"event {number}"
        assert len(set(map(id, engines))) == 1
        # The engine pools no connection: each event's connection is closed after it (as Dagster's).
        assert type(engines[0].pool).__name__ == "NullPool"
    # The files of Dagster's default storage, read by a process on Dagster's own storage class.
    assert (home / "history" / "runs" / f"{RUN_ID}.db").is_file()
    script = (
        "import dagster as dg\n"
        "from dagster._core.instance.ref import InstanceRef\n"
        "from dagster._core.storage.event_log import SqliteEventLogStorage\n"
        f"storage = SqliteEventLogStorage({str(home / 'history' / 'runs')!r})\n"
        f"print(sorted(e.message for e in storage.get_logs_for_run('{RUN_ID}') if e.message.startswith('event')))\n"
    )
    seen = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"DAGSTER_HOME": str(home)},
    )
    assert seen.stdout.strip() == str([f"event {number}" for number in range(5)])


def test_the_postgres_mode_keeps_dagster_postgres_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("ACORN_DAGSTER_POSTGRES_URL", "postgresql://u:p@127.0.0.1:9/db")
    prepare_environment()
    written = (tmp_path / "dagster.yaml").read_text()
    assert "event_log_storage" not in written and "postgres_url" in written
