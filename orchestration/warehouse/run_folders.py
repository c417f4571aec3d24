"""dagster-dbt's run folders: each `dbt build` of the dbt step writes its own target folder
(`dbt_project/target/acorn_dbt_models-<run>-<id>`: compiled SQL and dbt.log, and the saved parse) and
nothing removed them, so a daily schedule added about 2.3 GB a year. A build now removes the older ones once its
dbt has exited: its own folder stays (the last build's dbt.log and SQL, for a person to read), and so does any
folder a build still uses: each build holds a shared lock on a file in its folder from the moment dbt starts
until its step ends, and a folder younger than `KEEP_YOUNGER_THAN_SECONDS` is never removed (the moment between
dagster-dbt creating a folder and its build locking it). A folder is removed under its lock, taken exclusively
without waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

IN_USE = ".acorn-in-use"
KEEP_YOUNGER_THAN_SECONDS = 3600


@contextlib.contextmanager
def run_folder_in_use(folder: Path) -> Iterator[None]:
    """Hold `folder` (a run's target folder) in use: no other build removes it meanwhile."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / IN_USE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield


def _last_written(folder: Path) -> float:
    times = [folder.stat().st_mtime]
    for name in ("dbt.log", "run_results.json", IN_USE):
        with contextlib.suppress(OSError):
            times.append((folder / name).stat().st_mtime)
    return max(times)


def remove_old_run_folders(current: Path, *, now: float | None = None) -> list[Path]:
    """Remove the run folders beside `current` (the same op's, `<op>-*`) that no build uses and that were last
    written over `KEEP_YOUNGER_THAN_SECONDS` ago; the folders removed."""
    now = time.time() if now is None else now
    op = current.name.split("-", 1)[0]
    removed = []
    for folder in sorted(current.parent.glob(f"{op}-*")):
        if folder == current or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            if now - _last_written(folder) < KEEP_YOUNGER_THAN_SECONDS:
                continue
            with (folder / IN_USE).open("a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a build is using it
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue  # gone meanwhile (another build removed it), or not ours to remove
        removed.append(folder)
    return removed
