"""The dbt project as Dagster sees it: one cached DbtProject, with a manifest that always matches the SQL.

`dbt_project.prepare_if_dev()` is dagster-dbt's idiom: under `dagster dev` it parses the project on load, and
elsewhere it expects the manifest a deployment prepared beforehand. ACORN is also run from a clone with `acorn`
and pytest, where nobody prepares the manifest by hand, so `prepare_if_stale` also parses when the manifest is
missing (a fresh clone) or older than any model, seed or macro (someone edited the SQL): the assets Dagster
loads then always match the SQL dbt runs, and an up-to-date manifest costs nothing at start-up.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.paths import DBT_PROJECT_DIR

# The venv's dbt, so that runs work whether or not the venv is on PATH (make, the UI, tests).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

_SOURCE_FOLDERS = ("models", "seeds", "macros", "tests", "analyses")


def _newest_source_mtime() -> float:
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in _SOURCE_FOLDERS:
        sources += [path for path in (DBT_PROJECT_DIR / folder).rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in sources if path.exists())


def manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than a file it is parsed from."""
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()


def _parse(project: DbtProject) -> None:
    # The venv's dbt (dagster-dbt's own preparer runs whichever `dbt` is first on PATH).
    subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", "--project-dir", str(project.project_dir),
         "--profiles-dir", str(project.profiles_dir), "--target-path", str(project.target_path)],
        check=True,
        cwd=project.project_dir,
        capture_output=True,
    )  # fmt: skip


def prepare_if_stale(project: DbtProject) -> None:
    """Parse the project when its manifest is stale; a no-op (one stat per source file) otherwise."""
    if not manifest_is_stale(project):
        return
    # Several processes (pytest workers, the webserver and the daemon) may load definitions at once: one parses,
    # the others wait and find the fresh manifest.
    lock_path = project.project_dir / project.target_path / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale(project):
            _parse(project)


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()
prepare_if_stale(dbt_project)


def keep_partial_parse(run_target_path: Path) -> None:
    """Keep a finished run's partial parse as the project's, for the next run to start from.

    dagster-dbt gives each run its own target folder, seeded with the project's `target/partial_parse.msgpack`.
    dbt re-parses the whole project when that file was written under another profile, and the build's profile
    names the data dir's warehouse, which `dbt parse` at preparation does not know: without this, every build
    would re-parse from scratch (about 3 s). dbt checks the saved state itself (files, vars, profile), so a file
    from another data dir only costs one full parse, never a wrong one. Replaced atomically: concurrent runs
    each read a whole file.
    """
    source = run_target_path / "partial_parse.msgpack"
    if not source.exists():
        return
    destination = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    staged = destination.with_name(f"{destination.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, staged)
    os.replace(staged, destination)
