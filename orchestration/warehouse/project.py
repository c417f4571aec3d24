"""The dbt project as Dagster sees it: one cached DbtProject, with a manifest that always matches the SQL.

`dbt_project.prepare_if_dev()` is dagster-dbt's idiom: under `dagster dev` it parses the project on load, and
elsewhere it expects the manifest a deployment prepared beforehand. ACORN is also run from a clone with `acorn`
and pytest, where nobody prepares the manifest by hand, so `prepare_if_stale` also parses when the manifest is
missing (a fresh clone) or older than any model, seed or macro (someone edited the SQL): the assets Dagster
loads then always match the SQL dbt runs, and an up-to-date manifest costs nothing at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.paths import DBT_PROJECT_DIR, DBT_SAVED_PARSES_DIR

# The venv's dbt, so that runs work whether or not the venv is on PATH (make, the UI, tests).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
# The venv's dbt as builds start it: in the folder of the warehouse copy they write (dbt_command.py).
BUILD_DBT_EXECUTABLE = str(Path(sys.executable).parent / "acorn-dbt")
# How many saved parses of builds are kept (`keep_partial_parse`).
KEEP_SAVED_PARSES = 8

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


def run_target_folder(op_name: str, run_id: str) -> Path:
    """A new target folder for a build's dbt, named as dagster-dbt names its own (run_folders.py reads it)."""
    name = f"{op_name}-{run_id[:7]}-{uuid.uuid4().hex[:7]}"
    return dbt_project.project_dir / dbt_project.target_path / name


def parse_key(*command: str) -> str:
    """The key of a build's saved parse: what dbt's check of a saved parse hashes, besides the project's files,
    that differs between builds: the target, the `--vars` (the accounts, the books' settings) and the copy's
    file name, the profile's path (the same in every data dir: dbt_command.py)."""
    return hashlib.sha256("\x00".join(command).encode()).hexdigest()[:16]


# The saved parses of builds, one per `parse_key` (named in orchestration.paths, which dbt started ahead reads
# without loading dagster-dbt).
SAVED_PARSES_DIR = DBT_SAVED_PARSES_DIR


def _saved_parse(key: str) -> Path:
    return SAVED_PARSES_DIR / f"{key}.msgpack"


def seed_partial_parse(run_target_path: Path, key: str) -> bool:
    """Start a run's target folder with the parse saved under `key`, for dbt to re-parse only what changed;
    False when there is none (dagster-dbt then seeds it with the project's own `target/partial_parse.msgpack`).

    Builds of different settings (accounts, books' vars) keep their own: one shared file, replaced by each,
    made interleaved builds of two configs (the test suite's workers) each parse the whole project (about
    3-3.5 CPU s). dbt checks a seed itself (files, vars, profile, env vars of dbt_project.yml) and parses in
    full when it is not valid, so a seed can cost a full parse, never make a wrong one.
    """
    run_target_path.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(_saved_parse(key), run_target_path / "partial_parse.msgpack")
    except FileNotFoundError:
        return False  # none yet, or removed meanwhile as the oldest
    return True


def keep_partial_parse(run_target_path: Path, key: str) -> None:
    """Keep a finished run's parse as the one saved under `key`, for the next build of the same settings to
    start from. Replaced atomically: concurrent runs each read a whole file. The `KEEP_SAVED_PARSES` most
    recently written are kept (about 1.7 MB each)."""
    source = run_target_path / "partial_parse.msgpack"
    if not source.exists():
        return
    destination = _saved_parse(key)
    destination.parent.mkdir(parents=True, exist_ok=True)
    staged = destination.with_name(f"{destination.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, staged)
    os.replace(staged, destination)
    saved = []
    for path in destination.parent.glob("*.msgpack"):
        with contextlib.suppress(FileNotFoundError):
            saved.append((path.stat().st_mtime, path))
    for _, path in sorted(saved, reverse=True)[KEEP_SAVED_PARSES:]:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
