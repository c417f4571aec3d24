"""Where the lake's readers look, and where its writers stage what they have not published yet.

A lake dataset is `<data>/lake/<dataset>/<partition>/part-0.parquet`. Every reader (the warehouse's lake views,
the checks, the expectation suites, what counts as landed) lists a dataset's files through `published_files`
(or, for a DuckDB view that must see partitions landed after it was created, `published_pattern`): both match
`PUBLISHED_GLOB`, which skips any folder or file whose name starts with `.` or `_`.

Writers never build a file inside the lake: they stage it under `<data>/staging/` (beside the lake, on the same
file system, so publishing is one atomic rename) and move it into place with `os.replace`. A staged file is
therefore invisible to every reader whatever its state, and a process killed while staging leaves its leftovers
there, where `transforms/recovery.py` finds them.

A writer holds the data dir's writers lock shared (`writing`) for as long as anything it staged exists; the
clean-up of an interrupted run's leftovers takes it exclusively, without waiting (`exclusive`), so it never
removes what a live writer is staging.

A build reads the lake for as long as dbt runs, one model after another: a settlement published in the middle
would reach the later models and not the earlier ones. So a build holds the data dir's readers lock shared
(`reading`) while dbt runs, and every publish into the lake (a settlement's renames, a finances partition's)
holds it exclusively (`publishing`), waiting for a build that is reading: a build reads the lake as it was
when it started, and the import waiting for it lands right after.

A power cut keeps only what reached the disk: the kernel may write a renamed file's name before its bytes.
A staged file is therefore flushed to disk (`flush_to_disk`) before anything records that it is complete, and a
folder is flushed after a rename into or out of it, so a publish can never expose a truncated file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

# `[!._]`: no staging folder, hidden file or `_empty` helper of any version ever matches (DuckDB's glob and
# Python's pathlib both read it the same way).
PUBLISHED_GLOB = "[!._]*/[!._]*.parquet"
STAGING = "staging"
WRITERS_LOCK = ".acorn-writers.lock"
READERS_LOCK = ".acorn-lake-readers.lock"


def published_files(lake: Path, dataset: str) -> list[Path]:
    """Every published Parquet file of a lake dataset, sorted (none when the dataset has none yet)."""
    return sorted((Path(lake) / dataset).glob(PUBLISHED_GLOB))


def published_pattern(lake: Path, dataset: str) -> str:
    """The DuckDB glob of a dataset's published files: the same files `published_files` lists."""
    return str(Path(lake) / dataset / PUBLISHED_GLOB)


def data_dir_of(lake: Path) -> Path:
    """The data dir a lake belongs to (`<data>/lake`)."""
    return Path(lake).parent


def staging_root(data_dir: Path) -> Path:
    return Path(data_dir) / STAGING


def new_staging_dir(data_dir: Path, kind: str) -> Path:
    """A fresh private folder under `<data>/staging/`; call it while holding `writing(data_dir)`."""
    path = staging_root(data_dir) / f"{kind}-{uuid.uuid4().hex}"
    path.mkdir(parents=True)
    return path


def staging_file(data_dir: Path, kind: str, suffix: str = ".parquet") -> Path:
    """A fresh file name under `<data>/staging/` (not created); call it while holding `writing(data_dir)`."""
    root = staging_root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    return root / f"{kind}-{uuid.uuid4().hex}{suffix}"


@contextlib.contextmanager
def writing(data_dir: Path) -> Iterator[None]:
    """Hold the data dir's writers lock shared: the clean-up of leftovers waits for (skips) this process.

    Any number of writers (processes and threads) hold it at once; it is taken on a file of its own, so nesting
    is harmless."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / WRITERS_LOCK, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def hold_in_use(fd: int) -> None:
    """Mark the open file `fd` in use by this process (an exclusive `flock` of its own, without waiting): the
    clean-up of interrupted runs leaves it alone (`in_use`). Take it while holding `writing`, right after the
    file is created, so the clean-up never sees the file unheld; the kernel lets go when the last descriptor of
    this open file is closed, so a killed holder leaves an ordinary leftover."""
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def in_use(path: Path) -> bool:
    """Whether a live process holds `path` with `hold_in_use`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # (a lock taken here goes with it)
    return False


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[bool]:
    """Try to hold the writers lock exclusively, without waiting: yields whether no other writer is active."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / WRITERS_LOCK, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def reading(data_dir: Path) -> Iterator[None]:
    """Hold the lake still while a build reads it: publishes wait until the block ends."""
    with held_flock(data_dir, READERS_LOCK, fcntl.LOCK_SH):
        yield


@contextlib.contextmanager
def publishing(data_dir: Path) -> Iterator[None]:
    """Publish into the lake: waits for every build that is reading it (`reading`) to finish."""
    with held_flock(data_dir, READERS_LOCK, fcntl.LOCK_EX):
        yield


@contextlib.contextmanager
def held_flock(folder: Path, name: str, operation: int) -> Iterator[None]:
    """Hold `fcntl.flock(operation)` on the file `name` in `folder` (both made if missing), waiting for it; the
    kernel releases it if the process dies."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / name, "a+b") as handle:
        fcntl.flock(handle.fileno(), operation)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def flush_to_disk(*paths: Path | None) -> None:
    """fsync each path (None skipped): a file's bytes, or a folder's entries (the names renamed into or out of
    it; not the bytes of the files in it)."""
    for path in paths:
        if path is None:
            continue
        flags = os.O_RDONLY | (os.O_DIRECTORY if Path(path).is_dir() else 0)
        descriptor = os.open(path, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
