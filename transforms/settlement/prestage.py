"""The archive copy of `acorn import`'s first file, made while Dagster starts (on a thread of the command).

`acorn import FILE` spends its first seconds in one thread loading Dagster, opening the instance and creating
the run, while the machine's other cores idle. The archive's copy of the file (copy, sha256, line scan:
transforms/archive.py `stage_file`) needs nothing of that, so the command starts it at once (`Prestage`), and
the run's step, executing in the same process, takes the staged copy over (`claim`) instead of copying the
file again. Nothing else changes: the staged copy is private until the step commits it to the archive
(`_Commit` in importer.py), what is parsed is that copy, and whatever becomes of the parse the copy is
committed or dropped exactly as when the step made it. Its bytes are the file's bytes at one moment during
the command, as before.

The step makes its own copy as before when the prestaged one is not there for it: the step ran in another
process (Celery), the file was replaced or changed since (another inode, size or modification time), or the
prestage failed (the step then meets the error itself and reports it as always). A copy no step claimed is
removed when the command ends; a command killed meanwhile leaves a `raw/objects/.tmp-*` file, which the next
command removes like any interrupted archive copy (transforms/recovery.py). While it exists the copy is
marked in use, so the step's start-of-run clean-up leaves it alone without reporting it; the command runs that
clean-up itself before the prestage starts (`recover`), so nothing an interrupted run left is skipped.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from lake.layout import writing
from transforms.archive import RawArchive, StagedObject
from transforms.settlement.line_scan import LineScan


@dataclass(frozen=True)
class _Identity:
    """The file as the prestage found it: a step importing another file (or this one changed) gets no copy."""

    device: int
    inode: int
    size: int
    modified_ns: int
    data_dir: str

    @classmethod
    def of(cls, src: Path, data_dir: Path) -> _Identity:
        status = os.stat(src)
        return cls(
            status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, str(Path(data_dir).resolve())
        )


@dataclass(frozen=True)
class Prestaged:
    staged: StagedObject
    scan: LineScan


_LOCK = threading.Lock()
_PENDING: dict[_Identity, Future[Prestaged]] = {}
# Staged copies that exist and are spoken for (prestaged, or claimed and not yet committed): the clean-up of
# interrupted runs in this process leaves them alone (transforms/recovery.py).
IN_USE: set[Path] = set()


class Prestage:
    """Stages `src` into `data_dir`'s raw archive on a thread; `close` removes the copy if no step claimed it.

    Use as a context manager around the run. The data dir's writers lock is held shared meanwhile, as by any
    import with a staged copy (lake/layout.py `writing`)."""

    def __init__(self, src: Path, data_dir: Path) -> None:
        self.src = Path(src)
        self.data_dir = Path(data_dir)
        self._future: Future[Prestaged] = Future()
        self._identity: _Identity | None = None
        self._stack = contextlib.ExitStack()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Prestage:
        self._stack.enter_context(writing(self.data_dir))
        try:
            self._identity = _Identity.of(self.src, self.data_dir)
        except OSError:
            return self  # the step meets (and reports) what is wrong with the file
        with _LOCK:
            _PENDING[self._identity] = self._future
        self._thread = threading.Thread(target=self._stage, name="acorn-prestage", daemon=True)
        self._thread.start()
        return self

    def _stage(self) -> None:
        if not self._future.set_running_or_notify_cancel():
            return
        scan = LineScan()
        try:
            staged = RawArchive(self.data_dir / "raw").stage_file(self.src, on_chunk=scan.feed)
        except BaseException as error:
            self._future.set_exception(error)
            return
        with _LOCK:
            IN_USE.add(staged.path)
        self._future.set_result(Prestaged(staged, scan))

    def __exit__(self, *exc: object) -> None:
        try:
            if self._identity is not None:
                with _LOCK:
                    unclaimed = _PENDING.pop(self._identity, None)
                if unclaimed is not None:
                    if self._thread is not None:
                        self._thread.join()
                    if unclaimed.exception() is None:
                        path = unclaimed.result().staged.path
                        path.unlink(missing_ok=True)
                        with _LOCK:
                            IN_USE.discard(path)
        finally:
            self._stack.close()


def claim(src: Path, data_dir: Path) -> Prestaged | None:
    """The copy of `src` prestaged for `data_dir` in this process, once made (waits for it); None when there
    is none, it failed, or the file changed since it was made (the caller stages it itself)."""
    with _LOCK:
        if not _PENDING:
            return None
    try:
        identity = _Identity.of(src, data_dir)
    except OSError:
        return None
    with _LOCK:
        future = _PENDING.pop(identity, None)
    if future is None:
        return None
    try:
        prestaged = future.result()
    except Exception:
        return None
    try:
        unchanged = _Identity.of(src, data_dir) == identity
    except OSError:
        unchanged = False
    if not unchanged:
        release(prestaged.staged.path)
        prestaged.staged.path.unlink(missing_ok=True)
        return None
    return prestaged


def release(path: Path) -> None:
    """The staged copy at `path` is committed or removed: no longer this process's to protect."""
    with _LOCK:
        IN_USE.discard(path)
