"""The business day reaches dbt as an environment variable, not a var: a new day keeps dbt's parse partial."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.warehouse.dbt_command import WAREHOUSE_PATH_ENV, WORKING_COPY_ENV
from orchestration.warehouse.inputs import (
    BUSINESS_DAY_ENV,
    BUSINESS_DAY_VAR,
    build_env,
    build_vars,
    dbt_process_environment,
)

SETTINGS = {"accounts": ["demo-na"], BUSINESS_DAY_VAR: "2026-12-05", "reporting_currency": "USD"}


def test_the_day_goes_in_the_environment_and_every_other_setting_in_vars() -> None:
    assert json.loads(build_vars(SETTINGS)) == {"accounts": ["demo-na"], "reporting_currency": "USD"}
    assert build_env(SETTINGS) == {BUSINESS_DAY_ENV: "2026-12-05"}
    # The warehouse copy goes in the environment too, never in the vars (dbt_command.py).
    copy = Path("/data/warehouse.duckdb.building-copy")
    assert build_env(SETTINGS, working_copy=copy) == {
        BUSINESS_DAY_ENV: "2026-12-05",
        WORKING_COPY_ENV: str(copy),
    }


def test_the_environment_holds_the_day_only_while_dbt_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUSINESS_DAY_ENV, raising=False)
    with dbt_process_environment(build_env(SETTINGS)):
        child = subprocess.run(
            [sys.executable, "-c", f"import os; print(os.environ['{BUSINESS_DAY_ENV}'])"],
            capture_output=True,
            text=True,
            check=True,
        )
    assert child.stdout.strip() == "2026-12-05"
    assert BUSINESS_DAY_ENV not in os.environ
    monkeypatch.setenv(BUSINESS_DAY_ENV, "earlier")
    with dbt_process_environment(build_env(SETTINGS)):
        assert os.environ[BUSINESS_DAY_ENV] == "2026-12-05"
    assert os.environ[BUSINESS_DAY_ENV] == "earlier"


def _parse(project: Path, day: str) -> str:
    """`dbt parse` of `project` as a build runs it on `day`; the log's words on partial parsing."""
    logs = project / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--project-dir", str(project), "--profiles-dir",
         str(project), "--target-path", "target", "--vars", build_vars({**SETTINGS, BUSINESS_DAY_VAR: day})],
        cwd=project, env={**os.environ, WAREHOUSE_PATH_ENV: "w.duckdb", **build_env({BUSINESS_DAY_VAR: day})},
        check=True, capture_output=True,
    )  # fmt: skip
    return (logs / "dbt.log").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_new_business_day_reparses_only_the_files_that_read_it(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    _parse(project, "2026-12-05")
    assert "Nothing changed, skipping partial parsing" in _parse(project, "2026-12-05")
    next_day = _parse(project, "2026-12-06")
    assert "Unable to do partial parsing" not in next_day
    assert "0 files deleted, 0 files added, 1 files changed" in next_day
    # The compiled SQL ages invoices against the day the environment names.
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "compile", "--select", "fct_vendor_invoices", "--project-dir",
         str(project), "--profiles-dir", str(project), "--target-path", "target", "--vars",
         build_vars({**SETTINGS, BUSINESS_DAY_VAR: "2026-12-07"})],
        cwd=project, env={**os.environ, WAREHOUSE_PATH_ENV: str(tmp_path / "w.duckdb"),
                          **build_env({BUSINESS_DAY_VAR: "2026-12-07"})},
        check=True, capture_output=True,
    )  # fmt: skip
    compiled = next((project / "target" / "compiled").rglob("fct_vendor_invoices.sql"))
    assert "cast('2026-12-07' as date)" in compiled.read_text(encoding="utf-8")
