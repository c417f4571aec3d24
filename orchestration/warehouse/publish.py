"""Build the warehouse in a private copy and publish it atomically, so that readers never block a build.

Why: DuckDB locks a database file per process, either one process read-write or any number of processes
read-only, never both. An analyst's notebook or a BI tool holding `data/warehouse.duckdb` open read-only would
make dbt's read-write open fail (`acorn build` failed with a bare 'Error occurred while executing op'), and a
build writing the file in place would let readers see half-built marts. So a build never writes the file
readers open. `build_and_publish` does, in order:

1. takes the writer lock: `fcntl.flock` on `warehouse.duckdb.lock`, held for the whole build and publish, with
   the holder's pid, command line, start time and Dagster run written into it. A second build fails at once
   with `WarehouseLocked` naming that holder. The kernel drops the lock when its process dies, so a killed
   build never leaves a stale lock;
2. removes the copies a killed build left behind (`warehouse.duckdb.building-*`), safe under the lock since no
   other build is running (a copy started ahead by a live `acorn build`, `building-precopy-*` held by it, is
   that command's: precopy.py);
3. copies the published file (and its `.wal`, if a program left one) to `warehouse.duckdb.building-copy` in
   the same folder, so incremental models keep their state (one name for every build: the lock makes it
   private, and dbt's partial parse stays valid only while the warehouse path in its profile is unchanged),
   while holding a DuckDB read-only connection on the published file: shared with readers, refused by DuckDB
   while some program (`duckdb data/warehouse.duckdb` in a shell, `acorn docs`) has the file open read-write.
   That refusal becomes `WarehouseLocked` with DuckDB's message, which names the holding pid. When this
   `acorn build` copied the file ahead, while it started (precopy.py), it waits for that copy and renames it
   to `warehouse.duckdb.building-copy` instead, if it is the published file as it is now (else copies as above);
4. yields the copy: the caller registers the lake views in it and runs `dbt build` on it;
5. on success, checkpoints the copy (folding its WAL into the file), fsyncs it, then, checking again that no
   program has the published file open read-write, removes the published file's stale `.wal` (DuckDB would
   replay it onto the new file: it carries no link to the file it belongs to) and `os.replace`s the copy onto
   `warehouse.duckdb`, then fsyncs the folder. On any failure the copy is removed and the published file is
   left untouched: readers keep the previous complete build.

A reader's open connection keeps the old file (its inode) and sees the previous build until it reconnects; a
connection opened after the publish sees the new build. Within one process DuckDB shares one database instance
per path while any connection to it is open, so a reader must close all its connections to see the new build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.outcomes import WarehouseLocked
from orchestration.paths import wal_path
from orchestration.published_warehouse import read_only
from orchestration.warehouse.last_build import (
    LastBuild,
    file_identity,
    forget_last_build,
    read_last_build,
    write_last_build,
)
from orchestration.warehouse.precopy import Taken, held_precopy, precopy_for
from transforms import crash_points

BUILDING_INFIX = ".building-"


def lock_path(warehouse: Path) -> Path:
    """The writer lock beside the warehouse (`warehouse.duckdb.lock`)."""
    return warehouse.with_name(warehouse.name + ".lock")


@dataclass(frozen=True)
class LockHolder:
    """Who holds the writer lock, as written into the lock file by `writer_lock`."""

    pid: int | None
    command: str
    since: str
    run_id: str | None = None

    def describe(self) -> str:
        if self.pid is None:
            return "a process that has not written its details yet"
        text = f"pid {self.pid} (`{self.command}`), since {self.since}"
        return text + (f", Dagster run {self.run_id}" if self.run_id else "")


@dataclass(frozen=True)
class PublishTimings:
    """Seconds spent on the copy before the build and on the publish after it (the cost of never blocking)."""

    copy_seconds: float = 0.0
    publish_seconds: float = 0.0
    copied_bytes: int = 0
    copied_ahead: bool = False  # the copy the command made while it started (precopy.py), taken
    sync_seconds: float = 0.0  # of the copy made ahead's copy_seconds, its write to disk
    waited_seconds: float = 0.0  # what the build waited for that copy
    ahead_unused: str | None = None  # why a copy made ahead was not taken

    def describe_copy(self, source: str) -> str:
        """How the build got its copy, for the log: `N bytes copied from SOURCE ...`."""
        if self.copied_ahead:
            return (
                f"{self.copied_bytes} bytes copied from {source} ahead, while the command started, in "
                f"{self.copy_seconds:.2f} s ({self.sync_seconds:.2f} s of it writing the copy to disk); the "
                f"build waited {self.waited_seconds:.2f} s for it"
            )
        text = f"{self.copied_bytes} bytes copied from {source} in {self.copy_seconds:.2f} s"
        if self.ahead_unused is not None:
            text += (
                f"; the copy made ahead was not used ({self.ahead_unused}; waited "
                f"{self.waited_seconds:.2f} s for it)"
            )
        return text


class WarehouseBuild:
    """A build in progress: `path` is the private copy to build in; `warehouse` is the published file.

    When `unchanged_since` is set, the published warehouse was built from the same inputs (last_build.py):
    `path` is then the published file itself, to be read only, and nothing is copied or published. Otherwise
    the caller sets `record` once dbt has succeeded, and it is written beside the warehouse once published.
    """

    def __init__(self, warehouse: Path, path: Path, unchanged_since: LastBuild | None = None) -> None:
        self.warehouse = warehouse
        self.path = path
        self.timings = PublishTimings()
        self.unchanged_since = unchanged_since
        self.record: LastBuild | None = None


def _own_command() -> str:
    try:
        argv = Path("/proc/self/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        return shlex.join(arg.decode(errors="replace") for arg in argv)
    except OSError:
        return shlex.join([sys.executable, *sys.argv])


def read_lock_holder(warehouse: Path, *, wait_seconds: float = 1.0) -> LockHolder:
    """What the lock file says about its holder; waits briefly for a holder that has just taken the lock."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            document = json.loads(lock_path(warehouse).read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            document = {}
        if document.get("pid") or time.monotonic() >= deadline:
            return LockHolder(
                pid=document.get("pid"),
                command=str(document.get("command", "?")),
                since=str(document.get("since", "?")),
                run_id=document.get("run_id"),
            )
        time.sleep(0.05)


def _locked_by_writer(warehouse: Path, holder: LockHolder) -> WarehouseLocked:
    stop = f"stop it (`kill {holder.pid}`)" if holder.pid else "stop it"
    return WarehouseLocked(
        f"Another build is writing the warehouse {warehouse}: {holder.describe()}. "
        f"Wait for it to finish, or {stop}, then build again (writer lock: {lock_path(warehouse)})."
    )


@contextlib.contextmanager
def writer_lock(warehouse: Path, *, run_id: str | None = None) -> Iterator[LockHolder]:
    """Hold the warehouse's writer lock, or raise `WarehouseLocked` at once naming the process that holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Never truncate before holding the lock: the file names the current holder for anyone refused.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _locked_by_writer(warehouse, read_lock_holder(warehouse)) from None
        holder = LockHolder(
            pid=os.getpid(),
            command=_own_command(),
            since=datetime.now(UTC).isoformat(timespec="seconds"),
            run_id=run_id,
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(asdict(holder)) + "\n").encode(), 0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)  # nobody holds it now; released by close below
    finally:
        os.close(fd)


def build_copy_path(warehouse: Path) -> Path:
    """The private copy a build writes: `warehouse.duckdb.building-copy`, beside the published file."""
    return warehouse.with_name(f"{warehouse.name}{BUILDING_INFIX}copy")


def building_copies(warehouse: Path) -> list[Path]:
    """The private copies (and their WAL and temp dirs) beside the warehouse: `warehouse.duckdb.building-*`."""
    return sorted(warehouse.parent.glob(warehouse.name + BUILDING_INFIX + "*"))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_leftover_copies(warehouse: Path) -> list[Path]:
    """Remove copies left by a build that was killed; call only while holding the writer lock."""
    leftovers = [path for path in building_copies(warehouse) if not held_precopy(path, warehouse)]
    for path in leftovers:
        _remove(path)
    return leftovers


def _discard(copy: Path) -> None:
    for path in (copy, wal_path(copy), copy.with_name(copy.name + ".tmp")):
        _remove(path)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_published(warehouse: Path, copy: Path) -> PublishTimings:
    """Copy the published file (and its WAL) to `copy`, or take the copy made ahead of it; the bytes copied (0
    on a first build) and the seconds."""
    started = time.perf_counter()
    ahead = precopy_for(warehouse)
    if not warehouse.exists():
        if ahead is not None:
            ahead.stop()
        wal_path(warehouse).unlink(missing_ok=True)  # a WAL without its file belongs to no build
        return PublishTimings()
    # The read-only connection keeps read-write openers out while the bytes are copied. DuckDB's lock is a POSIX
    # record lock, which this process loses when it closes any descriptor of the file: so the WAL is copied
    # first, the database file last.
    with read_only(warehouse, own=True):
        taken = ahead.take(copy) if ahead is not None else Taken(ahead=False)
        if taken.ahead:
            return PublishTimings(
                copy_seconds=taken.copy_seconds,
                copied_bytes=taken.copied_bytes,
                copied_ahead=True,
                sync_seconds=taken.sync_seconds,
                waited_seconds=taken.waited_seconds,
            )
        copied = 0
        if wal_path(warehouse).exists():
            shutil.copyfile(wal_path(warehouse), wal_path(copy))
            copied += wal_path(copy).stat().st_size
        shutil.copyfile(warehouse, copy)
        return PublishTimings(
            copy_seconds=time.perf_counter() - started - taken.waited_seconds,
            copied_bytes=copied + copy.stat().st_size,
            waited_seconds=taken.waited_seconds,
            ahead_unused=taken.unused,
        )


def _publish(copy: Path, warehouse: Path) -> None:
    # Fold the WAL into the file, so the published file is complete on its own.
    with duckdb.connect(str(copy)) as connection:
        connection.execute("checkpoint")
    if wal_path(copy).exists():
        raise RuntimeError(f"{wal_path(copy)} still exists after a checkpoint; not publishing {copy}")
    _fsync_file(copy)
    crash_points.pause_at("warehouse-publish", copy=str(copy))
    if warehouse.exists():
        # Refused while a program has it open read-write: its writes would be lost.
        with read_only(warehouse, own=True):
            wal_path(warehouse).unlink(missing_ok=True)
            os.replace(copy, warehouse)
    else:
        wal_path(warehouse).unlink(missing_ok=True)
        os.replace(copy, warehouse)
    _fsync_dir(warehouse.parent)


@contextlib.contextmanager
def build_and_publish(
    warehouse: Path, *, run_id: str | None = None, inputs_fingerprint: str | None = None
) -> Iterator[WarehouseBuild]:
    """Yield a private copy of the warehouse to build in; publish it atomically when the block ends normally.

    Raises `WarehouseLocked` at once if another build holds the writer lock, or if a program has the published
    file open read-write (before the build, or when publishing). If the block raises, the copy is removed and
    the published file is left as it was. When the published warehouse was recorded as built from
    `inputs_fingerprint`, yields it unchanged instead (`WarehouseBuild.unchanged_since`).
    """
    warehouse = warehouse.resolve()
    with writer_lock(warehouse, run_id=run_id):
        remove_leftover_copies(warehouse)
        last = read_last_build(warehouse) if inputs_fingerprint else None
        if last is not None and inputs_fingerprint and last.describes(warehouse, inputs_fingerprint):
            if (ahead := precopy_for(warehouse)) is not None:
                ahead.stop()  # nothing to build: the copy made ahead is not needed
            yield WarehouseBuild(warehouse, warehouse, unchanged_since=last)
            return
        copy = build_copy_path(warehouse)
        build = WarehouseBuild(warehouse, copy)
        try:
            build.timings = _copy_published(warehouse, copy)
            yield build
            started = time.perf_counter()
            # The record describes the file it was written beside: gone before the replace, rewritten after.
            forget_last_build(warehouse)
            _publish(copy, warehouse)
            if build.record is not None:
                write_last_build(
                    warehouse, replace(build.record, warehouse_identity=file_identity(warehouse))
                )
            build.timings = replace(build.timings, publish_seconds=time.perf_counter() - started)
        finally:
            _discard(copy)
