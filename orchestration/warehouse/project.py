"""The dbt project as Dagster sees it: one cached DbtProject, parsed once when its manifest is missing."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.paths import DBT_PROJECT_DIR

# The venv's dbt, so that runs work whether or not the venv is on PATH (make, the UI, tests).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_source_mtime() -> float:
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "seeds", "macros", "tests", "analyses"):
        sources += [path for path in (DBT_PROJECT_DIR / folder).rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in sources if path.exists())


def ensure_manifest() -> None:
    """Parse the project when its manifest is missing (a fresh clone) or older than any model, seed or macro,
    so that the assets Dagster loads always match the SQL that dbt will run."""
    manifest = dbt_project.manifest_path
    if manifest.exists() and manifest.stat().st_mtime >= _newest_source_mtime():
        return
    # Several processes (pytest workers, the webserver and the daemon) may load definitions at once: one parses.
    lock_path = DBT_PROJECT_DIR / "target" / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
            subprocess.run(
                [
                    DBT_EXECUTABLE,
                    "parse",
                    "--project-dir",
                    DBT_PROJECT_DIR,
                    "--profiles-dir",
                    DBT_PROJECT_DIR,
                ],
                check=True,
                cwd=DBT_PROJECT_DIR,
                capture_output=True,
            )
