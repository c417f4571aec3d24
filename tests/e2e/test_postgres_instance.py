"""Scale-out's first part: the Dagster instance on a real PostgreSQL (ACORN_DAGSTER_POSTGRES_URL), README
"Scale-out". An `acorn import` killed mid-run, the next `acorn import` (which marks the killed run failed) and an
`acorn build` are all recorded in PostgreSQL, read back through the Dagster instance; nothing lands in SQLite under
DAGSTER_HOME; `acorn doctor` names the storage; and the password in the URL appears in no output, no log, not in
the written dagster.yaml and nowhere in the instance's tables.

Uses the server on 127.0.0.1:5432 (trust auth, so any password is accepted: the test's is a marker to look for),
in a database of its own created from `test` and dropped afterwards, so parallel runs never meet. Outside CI a
machine with no PostgreSQL there skips it; in CI (CI=true) it must run.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from acorn_process import SAMPLES, acorn, kill_group, start_acorn
from pause_hook import pause_env, wait_until_paused
from postgres_server import SERVER, fresh_database

SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"
SECRET = f"pw-{uuid.uuid4().hex}"  # trust auth ignores it; it must never be shown

pytestmark = pytest.mark.slow


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL; its URL, with SECRET as the password."""
    with fresh_database(SECRET) as url:
        yield url


def _kill_import_at_staged(workdir: Path, env: dict[str, str]) -> None:
    """`acorn import` stopped (test hook) with its run STARTED, then SIGKILLed with its children."""
    marker = workdir / "paused.json"
    pause = {**env, **pause_env("staged", marker)}
    process = start_acorn(
        workdir,
        "import",
        "--account",
        "demo-na",
        str(SAMPLE),
        env=pause,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        own_process_group=True,
    )
    try:
        wait_until_paused(process, marker, "staged", timeout=180)
    finally:
        kill_group(process)


def test_runs_are_recorded_in_postgres_and_the_password_is_never_shown(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"ACORN_DAGSTER_POSTGRES_URL": database}
    home = tmp_path / "dagster_home"
    _kill_import_at_staged(tmp_path, env)

    imported = acorn(tmp_path, "import", "--json", "--account", "demo-na", str(SAMPLE), env=env)
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert "recovered: run " in imported.stderr and "marked failed" in imported.stderr, imported.stderr
    assert [f["status"] for f in json.loads(imported.stdout)["files"]] == ["imported"]
    built = acorn(tmp_path, "build", "--json", env=env)
    assert built.returncode in (0, 1), built.stderr[-3000:]  # 1: an ERROR check on the sample's data
    doctor = acorn(tmp_path, "doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout[-3000:]
    instance_line = next(line for line in doctor.stdout.splitlines() if " instance " in line)
    assert instance_line.startswith("ok   instance")
    assert f"PostgreSQL at postgresql://postgres:***@{SERVER}/" in instance_line
    assert "3 runs" in instance_line, instance_line

    # Read back through the Dagster instance, as the UI and every command do.
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("ACORN_DAGSTER_POSTGRES_URL", database)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        runs = list(reversed(instance.get_runs()))
        assert [(r.job_name, r.status) for r in runs] == [
            ("settlement_import", dg.DagsterRunStatus.FAILURE),
            ("settlement_import", dg.DagsterRunStatus.SUCCESS),
            # An ERROR check failed on the sample's data (exit 1) fails the run in Dagster, as in the embedded mode.
            (
                "warehouse_build",
                dg.DagsterRunStatus.FAILURE if built.returncode else dg.DagsterRunStatus.SUCCESS,
            ),
        ]
        assert [r.run_id for r in runs[1:]] == [json.loads(o.stdout)["run_id"] for o in (imported, built)]
        killed = runs[0].run_id
        assert f"recovered: run {killed} marked failed" in imported.stderr
        failures = [
            entry.dagster_event.message
            for entry in instance.all_logs(killed)
            if entry.dagster_event is not None and entry.dagster_event.event_type_value == "PIPELINE_FAILURE"
        ]
        assert len(failures) == 1 and "is gone" in str(failures[0]), failures
        # The build's checks are events of its run in PostgreSQL (what `acorn build` reported from).
        checks = instance.get_records_for_run(
            runs[2].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
        reported = {c["name"] for c in json.loads(built.stdout)["checks"]}
        assert reported and reported <= {
            r.event_log_entry.dagster_event.asset_check_evaluation_data.check_name  # type: ignore[union-attr]
            for r in checks
        }

    assert not list(home.rglob("*.db")), "run history went to SQLite, not PostgreSQL"
    written = (home / "dagster.yaml").read_text()
    assert "env: ACORN_DAGSTER_POSTGRES_URL" in written
    shown = [imported.stdout, imported.stderr, built.stdout, built.stderr, doctor.stdout, doctor.stderr]
    files = [p for p in [*home.rglob("*"), *(tmp_path / "data").rglob("*")] if p.is_file()]
    leaks = [p for p in files if SECRET.encode() in p.read_bytes()]
    assert SECRET not in written and not any(SECRET in text for text in shown) and leaks == []

    import psycopg2

    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("select tablename from pg_tables where schemaname = 'public'")
        tables = [name for (name,) in cursor.fetchall()]
        assert {"runs", "event_logs", "run_tags", "jobs"} <= set(tables)
        holding = []
        for table in tables:
            cursor.execute(f'select count(*) from "{table}" t where t::text like %s', (f"%{SECRET}%",))
            if cursor.fetchone()[0]:
                holding.append(table)
    assert holding == [], f"the password is stored in {holding}"
