"""A build's dbt log file is written at info level (dbt's default, debug, is a JSON line per SQL statement and
connection event: about 1-1.5 CPU s of a daily build at H = 78), unless DBT_LOG_LEVEL_FILE says otherwise."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.warehouse.inputs import DBT_FILE_LOG_LEVEL_ENV, file_log_args


def test_a_build_logs_to_its_file_at_info_unless_the_environment_chooses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DBT_FILE_LOG_LEVEL_ENV, raising=False)
    assert file_log_args() == ["--log-level-file", "info"]
    monkeypatch.setenv(DBT_FILE_LOG_LEVEL_ENV, "debug")
    assert file_log_args() == []


def _levels(project: Path, extra: list[str]) -> set[str]:
    logs = project / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", *extra, "--project-dir", str(project),
         "--profiles-dir", str(project), "--target-path", "target", "--log-format-file", "json"],
        cwd=project, check=True, capture_output=True,
    )  # fmt: skip
    lines = (logs / "dbt.log").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["info"]["level"] for line in lines if line.startswith("{")}


@pytest.mark.slow
def test_dbt_takes_the_flag_after_its_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DBT_FILE_LOG_LEVEL_ENV, raising=False)
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    assert "debug" in _levels(project, [])
    assert "debug" not in _levels(project, file_log_args())
