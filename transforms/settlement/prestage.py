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
clean-up itself before the prestage starts (`recover`), so nothing an interrupted run left is skipped. (The
copy and the staging folder are marked the moment after they are created; a clean-up listing the folder in
that moment would only report them as another writer's: the writers lock keeps it from removing anything.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from lake.layout import writing
from transforms.archive import RawArchive, StagedObject
from transforms.settlement import lake as lake_io
from transforms.settlement.accounts import AccountDirectory
from transforms.settlement.file_shape import ConvertedLines, FileShape
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
class ParsedLines:
    """The prestage's parse of the staged copy into a staging folder of the lake (lake_io.staging_dir): what
    the step's own `convert_lines` call would have produced, for the same bytes, head and account."""

    shape: FileShape  # as inspect_head read it (before convert_lines settles anything)
    account_id: str | None
    staging: Path
    converted: ConvertedLines


@dataclass(frozen=True)
class Prestaged:
    staged: StagedObject
    scan: LineScan
    # None when the prestage did not parse (bytes already archived, a head it does not accept, an account it
    # cannot tell): the step parses as always. Resolved once the parse ends.
    parsed: Future[ParsedLines | None]

    def take_parse(self, *, shape: FileShape, account_id: str | None) -> ParsedLines | None:
        """The prestaged parse if it read these bytes as `shape` for `account_id` (the step's own reading);
        else None, and its staging folder is removed."""
        try:
            parsed = self.parsed.result()
        except Exception:
            return None
        if parsed is None:
            return None
        if parsed.shape != shape or parsed.account_id != account_id:
            shutil.rmtree(parsed.staging, ignore_errors=True)
            release(parsed.staging)
            return None
        return parsed


_LOCK = threading.Lock()
_PENDING: dict[_Identity, Future[Prestaged]] = {}
# Staged copies that exist and are spoken for (prestaged, or claimed and not yet committed): the clean-up of
# interrupted runs in this process leaves them alone (transforms/recovery.py).
IN_USE: set[Path] = set()


class Prestage:
    """Stages `src` into `data_dir`'s raw archive on a thread; `close` removes the copy if no step claimed it.

    Use as a context manager around the run. The data dir's writers lock is held shared meanwhile, as by any
    import with a staged copy (lake/layout.py `writing`)."""

    def __init__(
        self,
        src: Path,
        data_dir: Path,
        *,
        account_id: str | None = None,
        accounts: Callable[[], AccountDirectory] | None = None,
        parse: bool = True,
    ) -> None:
        self.src = Path(src)
        self.data_dir = Path(data_dir)
        # The config's accounts, as the step loads them, to infer the account as it does (None: not inferred).
        self.accounts = accounts
        self.parse = parse  # False: the copy only (a re-attribution's step reads the archived bytes)
        self.account_id = account_id  # as the run config gives it (None: inferred from the marketplaces)
        self._future: Future[Prestaged] = Future()
        self._parsed: Future[ParsedLines | None] = Future()
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
        created: list[Path] = []

        def in_use(path: Path) -> None:
            created.append(path)
            with _LOCK:
                IN_USE.add(path)

        try:
            staged = RawArchive(self.data_dir / "raw").stage_file(
                self.src, on_chunk=scan.feed, on_created=in_use
            )
        except BaseException as error:
            for path in created:
                release(path)
            self._future.set_exception(error)
            return
        self._parsed.set_running_or_notify_cancel()
        self._future.set_result(Prestaged(staged, scan, self._parsed))
        try:
            self._parsed.set_result(self._parse(staged, scan))
        except BaseException as error:
            self._parsed.set_exception(error)

    def _parse(self, staged: StagedObject, scan: LineScan) -> ParsedLines | None:
        """convert_lines into a staging folder, as the step would; None where the step's own rules decide
        (already archived bytes, a file the head refuses, an account not told by the config and the head)."""
        from transforms.settlement.convert import convert_lines
        from transforms.settlement.errors import EmptySettlementFile, SettlementFileError
        from transforms.settlement.head import inspect_head

        if not self.parse or RawArchive(self.data_dir / "raw").path_for(staged.sha256).exists():
            return None  # the step's duplicate rules
        try:
            shape = inspect_head(staged.path, charset_hint=None, file=self.src.name, scan=scan)
        except (SettlementFileError, EmptySettlementFile):
            return None
        if not lake_io.usable_settlement_id(shape.summary.settlement_id):
            return None
        account_id = self.account_id
        if account_id is None:
            if self.accounts is None:
                return None
            try:
                resolution = self.accounts().resolve(shape.marketplace_names)
            except Exception:
                return None
            if not resolution.ok:
                return None
            account_id = resolution.account_id
        staging = lake_io.staging_dir(self.data_dir / "lake")
        with _LOCK:
            IN_USE.add(staging)
        try:
            converted = convert_lines(
                staged.path,
                shape,
                staging / lake_io.STAGED_LINES,
                file=self.src.name,
                account_id=account_id,
                raw_sha256=staged.sha256,
                line_scan=scan,
                workdir=staging,
            )
        except Exception:
            shutil.rmtree(staging, ignore_errors=True)
            release(staging)
            return None  # the step parses again, and names what is wrong as always
        return ParsedLines(shape, account_id, staging, converted)

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        try:
            if exc_type is not None and not issubclass(exc_type, Exception):
                # Ctrl-C, exit: no wait for the parse; what it leaves is the next command's to remove.
                return
            if self._identity is not None:
                with _LOCK:
                    unclaimed = _PENDING.pop(self._identity, None)
                if self._thread is not None:
                    self._thread.join()
                if unclaimed is not None and unclaimed.exception() is None:
                    path = unclaimed.result().staged.path
                    path.unlink(missing_ok=True)
                    release(path)
                parsed = (
                    self._parsed.result() if self._parsed.done() and not self._parsed.exception() else None
                )
                if parsed is not None and parsed.staging in IN_USE:  # not taken by a step
                    shutil.rmtree(parsed.staging, ignore_errors=True)
                    release(parsed.staging)
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
