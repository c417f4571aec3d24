"""`acorn build` with nothing new in the lake, as a person runs it: dbt is not run, the output says the warehouse
is unchanged, and every check is reported as before (a failed ERROR check still fails the build); a new file
in the lake makes the next build run dbt again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.paths import REPO_ROOT
from orchestration.warehouse.last_build import file_identity, record_path

SAMPLES = REPO_ROOT / "tests" / "fixtures" / "shared" / "settlement-samples"

pytestmark = [pytest.mark.slow]


def _acorn(workdir: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ACORN_DATA_DIR": str(workdir / "data"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "-m", "acorn_cli.main", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _settlement_id(settlement_file: Path) -> str:
    """The settlement id of a settlement file: the first data row's first column."""
    return settlement_file.read_text(encoding="utf-8", errors="replace").splitlines()[1].split("\t")[0]


def _checks(report: dict[str, Any]) -> set[tuple[str, str, bool, str]]:
    return {(c["name"], c["asset"], c["passed"], c["severity"]) for c in report["checks"]}


def _run_events(dagster_home: Path, run_id: str) -> dict[str, list[str]]:
    """{event type: the step keys (checks: the check names) of the run's events of that type}."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    found: dict[str, list[str]] = {}
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None:
                continue
            name = (
                event.asset_check_evaluation_data.check_name
                if event.event_type_value == "ASSET_CHECK_EVALUATION"
                else event.step_key or ""
            )
            found.setdefault(event.event_type_value, []).append(name)
    return found


def test_a_build_with_nothing_new_reports_the_warehouse_unchanged(tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*"))
    first_files, later_file = samples[:-1], samples[-1]
    imported = _acorn(tmp_path, "import", "--account", "demo-na", *map(str, first_files))
    assert imported.returncode in (0, 1), imported.stderr[-2000:]

    built = _acorn(tmp_path, "build", "--json")
    assert built.returncode in (0, 1), built.stderr[-2000:]
    first = json.loads(built.stdout)
    assert first["warehouse_unchanged_since_run"] is None
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    published = warehouse.stat()

    again = _acorn(tmp_path, "build", "--json")
    second = json.loads(again.stdout)
    assert second["warehouse_unchanged_since_run"] == first["run_id"]
    assert again.returncode == built.returncode
    assert _checks(second) == _checks(first)
    assert second["problems"] == first["problems"]
    dbt_tests = [c for c in second["checks"] if "evaluated_in_run" in c["metadata"]]
    assert dbt_tests and all(c["metadata"]["evaluated_in_run"] == first["run_id"] for c in dbt_tests)
    assert (warehouse.stat().st_ino, warehouse.stat().st_mtime_ns) == (
        published.st_ino,
        published.st_mtime_ns,
    )
    # In Dagster the run holds what it did: the Python checks it evaluated again, no dbt step, no model
    # materialised and no dbt test re-recorded (the UI keeps showing each test's evaluation by the build).
    recorded = _run_events(tmp_path / "dagster_home", second["run_id"])
    assert "ASSET_MATERIALIZATION" not in recorded
    assert "acorn_dbt_models" not in recorded["STEP_START"]
    assert sorted(recorded["ASSET_CHECK_EVALUATION"]) == sorted(
        c["name"] for c in second["checks"] if "evaluated_in_run" not in c["metadata"]
    )
    assert "nothing new, warehouse unchanged" in _acorn(tmp_path, "build").stdout

    # The published fees as an older definition of fct_fees left them: one fee row fewer, and the record says
    # fct_fees was built by another definition (what an upgrade of ACORN or an edited fee taxonomy leaves).
    with duckdb.connect(str(warehouse)) as connection:
        expected_fees = connection.execute("select count(*), sum(amount) from marts.fct_fees").fetchone()
        connection.execute("delete from marts.fct_fees where rowid = (select min(rowid) from marts.fct_fees)")
    record_file = record_path(warehouse)
    record = json.loads(record_file.read_text())
    record["warehouse_identity"] = file_identity(warehouse)
    record["incremental_definitions"]["model.acorn.fct_fees"] = "an older definition"
    record_file.write_text(json.dumps(record))

    imported = _acorn(tmp_path, "import", "--account", "demo-na", str(later_file))
    assert imported.returncode in (0, 1), imported.stderr[-2000:]
    rebuilding = _acorn(tmp_path, "build", "--json")
    rebuilt = json.loads(rebuilding.stdout)
    assert rebuilt["warehouse_unchanged_since_run"] is None
    assert not [c for c in rebuilt["checks"] if "evaluated_in_run" in c["metadata"]]
    assert warehouse.stat().st_ino != published.st_ino
    # The changed definition rebuilt the incremental models whole: the old settlements' fees are back, beside
    # the new settlement's (an incremental build would have added only the new one's).
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        old_fees = connection.execute(
            "select count(*), sum(amount) from marts.fct_fees where settlement_id <> ?",
            [_settlement_id(later_file)],
        ).fetchone()
    assert old_fees == expected_fees
    assert json.loads(record_file.read_text())["incremental_definitions"]["model.acorn.fct_fees"] != (
        "an older definition"
    )
