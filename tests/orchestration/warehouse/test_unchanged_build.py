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

import pytest

from orchestration.paths import REPO_ROOT

SAMPLES = REPO_ROOT / "tests" / "fixtures" / "shared" / "settlement-samples"

pytestmark = [pytest.mark.slow]


def _acorn(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ACORN_DATA_DIR": str(workdir / "data"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
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


def _checks(report: dict[str, Any]) -> set[tuple[str, str, bool, str]]:
    return {(c["name"], c["asset"], c["passed"], c["severity"]) for c in report["checks"]}


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
    assert "nothing new, warehouse unchanged" in _acorn(tmp_path, "build").stdout

    imported = _acorn(tmp_path, "import", "--account", "demo-na", str(later_file))
    assert imported.returncode in (0, 1), imported.stderr[-2000:]
    rebuilt = json.loads(_acorn(tmp_path, "build", "--json").stdout)
    assert rebuilt["warehouse_unchanged_since_run"] is None
    assert not [c for c in rebuilt["checks"] if "evaluated_in_run" in c["metadata"]]
    assert warehouse.stat().st_ino != published.st_ino
