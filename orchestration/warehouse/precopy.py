"""The build's copy of the published warehouse, made ahead: `acorn build` forks a child that copies
`warehouse.duckdb` while the command loads Dagster, and the dbt step takes that copy instead of copying the file
itself (publish.py, step 3 of `build_and_publish`).

Why: the step copied the whole published file (637 MB at 78 settlements, growing with the history) after the run
had started, on the critical path; the command's first seconds load Dagster on one core, the other mostly idle.
The copy is a kernel copy (`os.copy_file_range`, `os.sendfile` where it is refused): little CPU in Python.

It stays the same copy:
- `start_precopy` forks while the process has one thread. It creates the private file
  `warehouse.duckdb.building-precopy-<random>` beside the warehouse and holds it with an exclusive `flock` of its
  own (`lake.layout.hold_in_use`) for as long as it is the command's: a build's removal of leftover copies
  (publish.py `remove_leftover_copies`) leaves a held precopy alone, and removes it once unheld (a killed
  command's).
- The child opens the published file and takes a shared POSIX record lock on it (`fcntl.lockf`, LOCK_SH, without
  waiting): DuckDB's own lock is a whole-file POSIX record lock, F_RDLCK for a read-only open and F_WRLCK for a
  read-write one, so readers go on and no read-write opener can modify the file while it is copied; when the lock
  cannot be taken (a program has it open read-write) or the file has a `.wal`, it copies nothing. It records the
  file's identity (device, inode, size, modification and change times) before and after the copy, and reports.
- The step, under the writer lock and its read-only connection to the published file (where it copied before),
  waits for an unfinished copy, and takes it (`os.rename` to `warehouse.duckdb.building-copy`) only when it
  completed, the file has no `.wal`, and the published file is still the one copied (same identity, same before
  and after); otherwise it removes it and copies the file as before. The log line says which, and how long the
  step waited.
- The child writes the copy to disk (`fdatasync`) before it reports: its pages would otherwise stay dirty in the
  page cache until the build's first DuckDB checkpoint fsyncs the file, on the step's path (the step waits for
  the report anyway when the child is not done).
- The child dies with the command (PR_SET_PDEATHSIG, and a check of its parent between chunks) and ignores
  Ctrl-C (the command stops it). The command stops (kills) and reaps it and removes an unused copy before it
  exits, on Ctrl-C and on SIGTERM too (transforms/prestage.py `unwinding_on_sigterm`).

Off with ACORN_WAREHOUSE_PRECOPY=0, off where `fork` is not Linux's, and not started by a process with a thread.
This module imports only the standard library (and lake.layout, orchestration.paths and transforms.prestage,
which do too) at the top: it is loaded before the fork.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lake.layout import hold_in_use, in_use
from orchestration.paths import wal_path
from transforms.prestage import HeldForkedCopy, die_with_parent, send_report, single_threaded

PRECOPY_SWITCH_ENV = "ACORN_WAREHOUSE_PRECOPY"
# After `.building-` (publish.py BUILDING_INFIX): a precopy nobody holds is a leftover like any building copy.
PRECOPY_INFIX = ".building-precopy-"
_CHUNK = 64 << 20  # bytes per kernel copy call: the child checks its parent between them


@dataclass(frozen=True)
class SourceIdentity:
    """The published file as copied: the step takes the copy only for this file, unchanged."""

    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> SourceIdentity:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


@dataclass(frozen=True)
class Taken:
    """What the step used: the copy made ahead (`ahead`), or why not (`unused`, a short reason)."""

    ahead: bool
    copied_bytes: int = 0
    copy_seconds: float = 0.0  # the child's copy, from its start, its write to disk included
    sync_seconds: float = 0.0  # of which the write to disk (fdatasync)
    waited_seconds: float = 0.0  # what the step waited for it
    unused: str | None = None


def precopy_enabled() -> bool:
    return (
        os.environ.get(PRECOPY_SWITCH_ENV, "1") != "0"
        and sys.platform.startswith("linux")
        and hasattr(os, "fork")
    )


def is_precopy(path: Path, warehouse: Path) -> bool:
    return path.name.startswith(warehouse.name + PRECOPY_INFIX)


def held_precopy(path: Path, warehouse: Path) -> bool:
    """Whether `path` is a precopy a live command holds (its own, to take or remove): not a leftover."""
    return is_precopy(path, warehouse) and in_use(path)


class Precopy(HeldForkedCopy):
    """The child copying the published `warehouse` into `path`, until the step takes the copy or `stop`."""

    def __init__(self, warehouse: Path) -> None:
        super().__init__()
        self.warehouse = warehouse
        self.started = 0.0
        self.report: dict[str, Any] | None = None
        self._waited = False

    def start(self) -> None:
        """Create the held copy file and fork the child that fills it; OSError when the file cannot be made."""
        fd, name = tempfile.mkstemp(prefix=self.warehouse.name + PRECOPY_INFIX, dir=self.warehouse.parent)
        self._copy_fd, self.path = fd, Path(name)
        hold_in_use(fd)
        # The mode a copy the step makes gets (shutil.copyfile: 0o666 less the umask), not mkstemp's 0o600: the
        # copy is published. (One thread: reading the umask by setting it is safe here.)
        umask = os.umask(0o022)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        self.started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child; never returns)
            os.close(read_fd)
            _child(self.warehouse, fd, write_fd, parent)
        self.pid = pid
        os.close(write_fd)
        self._result_fd = read_fd

    def wait(self) -> float:
        """Wait for the child's report and reap it; the seconds waited."""
        if self._waited:
            return 0.0
        self._waited = True
        began = time.monotonic()
        self.report = self._read_report()
        return time.monotonic() - began

    def take(self, copy: Path) -> Taken:
        """Move the finished copy to `copy` when it is the published file as it is now (waits for the child);
        otherwise remove it and say why. Call under the writer lock, holding a read-only connection to the file
        (nothing writes it meanwhile), before anything opens `copy`."""
        waited = self.wait()
        report = self.report
        unused: str | None = None
        if self.path is None or self._copy_fd is None:
            unused = "stopped"
        elif report is None:
            unused = "the copy ahead failed"
        elif report.get("refused"):
            unused = str(report["refused"])
        elif report["before"] != report["after"]:
            unused = "the published file changed while it was copied"
        elif wal_path(self.warehouse).exists():
            unused = "the published file has a WAL now"
        else:
            try:
                now = asdict(SourceIdentity.of(os.stat(self.warehouse)))
            except OSError:
                now = None
            if now != report["before"]:
                unused = "the published file changed since"
            elif not report["copied"] == os.fstat(self._copy_fd).st_size == report["before"]["size"]:
                unused = "the copy ahead is incomplete"
            elif not _same_file(self.path, self._copy_fd):
                unused = "the copy ahead was removed"  # (by a build between its creation and its hold)
        if unused is not None or report is None or self.path is None:
            self.stop()
            return Taken(ahead=False, waited_seconds=waited, unused=unused)
        try:
            os.rename(self.path, copy)
        except OSError:
            self.stop()
            return Taken(ahead=False, waited_seconds=waited, unused="the copy ahead could not be moved")
        self.path = None
        self._close_copy_fd()  # before DuckDB opens `copy` in this process (its record locks go with any close)
        self.stop()
        return Taken(
            ahead=True,
            copied_bytes=int(report["before"]["size"]),
            copy_seconds=float(report["seconds"]),
            sync_seconds=float(report["sync_seconds"]),
            waited_seconds=waited,
        )

    def stop(self) -> None:
        """Kill and reap the child if it runs, remove the copy unless taken, let go of the hold. Idempotent."""
        try:
            self.release()
        finally:
            with contextlib.suppress(ValueError):
                _ACTIVE.remove(self)


# The precopy this process started and the step has not taken or the command stopped (at most one).
_ACTIVE: list[Precopy] = []


def precopy_refused(warehouse: Path) -> str | None:
    """Why `acorn build` must not copy `warehouse` ahead (a short reason), or None."""
    if not precopy_enabled():
        return "switched off"
    if not warehouse.is_file():
        return "no published warehouse"
    if wal_path(warehouse).exists():
        return "the published warehouse has a WAL"
    if not single_threaded():
        return "the process has more than one thread"
    return None


def start_precopy(warehouse: Path) -> Precopy | None:
    """Fork the child copying the published `warehouse` (see the module), or None when refused or it cannot."""
    warehouse = warehouse.resolve()
    if precopy_refused(warehouse) is not None:
        return None
    precopy = Precopy(warehouse)
    try:
        precopy.start()
    except OSError:
        precopy.stop()
        return None
    _ACTIVE.append(precopy)
    return precopy


def precopy_for(warehouse: Path) -> Precopy | None:
    """The copy of `warehouse` this process started ahead and nothing took yet."""
    resolved = warehouse.resolve()
    for precopy in _ACTIVE:
        if precopy.warehouse == resolved:
            return precopy
    return None


def stop_all() -> None:
    for precopy in list(_ACTIVE):
        precopy.stop()


def _same_file(path: Path, fd: int) -> bool:
    try:
        status, held = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == (held.st_dev, held.st_ino)


def _copy(src: int, dst: int, size: int, parent: int) -> int:  # pragma: no cover (the child)
    """Copy `size` bytes from `src` to `dst` in the kernel; the bytes copied."""
    copied = 0
    use_range = True
    while copied < size:
        if os.getppid() != parent:
            os._exit(1)  # the command is gone: its copy is an ordinary leftover now
        count = min(_CHUNK, size - copied)
        if use_range:
            try:
                done = os.copy_file_range(src, dst, count, copied, copied)
            except OSError as error:
                if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                use_range = False
                continue
        else:
            os.lseek(dst, copied, os.SEEK_SET)
            done = os.sendfile(dst, src, copied, count)
        if done == 0:
            break  # shorter than it was: the identities differ, the step copies the file itself
        copied += done
    return copied


def _child(warehouse: Path, copy_fd: int, write_fd: int, parent: int) -> None:  # pragma: no cover (the child)
    """The forked child: copy under a shared record lock, report through `write_fd`, end with os._exit."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the command stops us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        die_with_parent(signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
        began = time.monotonic()
        report: dict[str, Any]
        src = os.open(warehouse, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.lockf(src, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            report = {"refused": "a program had the published file open read-write"}
        else:
            before = SourceIdentity.of(os.fstat(src))
            if wal_path(warehouse).exists():
                report = {"refused": "the published file had a WAL"}
            else:
                copied = _copy(src, copy_fd, before.size, parent)
                after = SourceIdentity.of(os.fstat(src))
                copied_at = time.monotonic()
                # The copy's pages are dirty in the page cache: written here, beside the command's start, rather
                # than by the build's first DuckDB checkpoint, which fsyncs the file on the step's path (1.1 s
                # for the 644 MB of 78 settlements on a slow disk, growing with the history).
                os.fdatasync(copy_fd)
                done = time.monotonic()
                report = {
                    "before": asdict(before),
                    "after": asdict(after),
                    "copied": copied,
                    "seconds": done - began,
                    "sync_seconds": done - copied_at,
                }
                if wal_path(warehouse).exists():
                    report = {"refused": "the published file had a WAL"}
        send_report(write_fd, report)
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # (the record lock goes with the process)
