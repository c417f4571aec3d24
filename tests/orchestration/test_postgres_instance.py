"""The Dagster instance on a real PostgreSQL (the team set-up): `acorn` writes the dagster.yaml, and a run of
`acorn import` is recorded in PostgreSQL rather than in SQLite files under DAGSTER_HOME.

Uses the server on 127.0.0.1:5432 (trust auth) in a database of its own, dropped afterwards. Outside CI, a
machine with no PostgreSQL skips it; in CI (CI=true) it must run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "tests" / "fixtures" / "shared" / "settlement-samples"
SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"
SERVER = "postgresql://postgres@127.0.0.1:5432"

pytestmark = pytest.mark.slow


@pytest.fixture
def database() -> Iterator[str]:
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"acorn_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(f"{SERVER}/postgres", connect_timeout=3)
    except psycopg2.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 ({error})")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'create database "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'drop database if exists "{name}" with (force)')
        admin.close()


def test_runs_are_recorded_in_postgres(database: str, tmp_path: Path) -> None:
    import psycopg2

    home = tmp_path / "dagster_home"
    env = {
        **os.environ,
        "ACORN_DAGSTER_POSTGRES_URL": database,
        "DAGSTER_HOME": str(home),
        "ACORN_DATA_DIR": str(tmp_path / "data"),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "acorn_cli.main", "import", "--json", str(SAMPLE)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "postgres" in (home / "dagster.yaml").read_text()
    assert not list(home.rglob("*.db")), "run history went to SQLite, not PostgreSQL"
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("select pipeline_name, status from runs")
        runs = cursor.fetchall()
    assert runs == [("settlement_import", "SUCCESS")]
