"""The archive copy of `acorn import`'s first file, made by a forked child process while Dagster starts.

`acorn import FILE` spends its first seconds in one thread loading Dagster, opening the instance and creating
the run. The archive's copy of the file (copy, sha256, line scan: transforms/archive.py `_copy_and_hash`, as
`stage_file` makes it) needs nothing of that, so the command forks a child that makes it (`ForkedCopy`), and the
run's step, executing in the command's process, takes the copy over (`claim`) instead of copying the file
again. A child process, not a thread: the copy's loop needs the GIL after every chunk, and a thread beside
Dagster's imports got it back only every switch interval (docs/performance.md, rounds `prestage`, `h-import`,
`h-import5`, `h-fork`).

What the step does with the copy is what it does with its own: it is private until the step commits it to the
archive (`_Commit` in importer.py), the bytes are archived under the sha256 of the copy itself, and the same
duplicate, quarantine and re-attribution rules decide. The step takes it only when the file it imports is the one
copied and unchanged (device, inode, size and modification time as when the child opened it, and as after its
copy); otherwise, or when the child failed, the step copies the file itself and meets any error as always.

The child is forked only while the command has a single thread (`os.fork` copies the calling thread only: a
lock another thread held would stay locked in the child), so before Dagster, DuckDB, NumPy or anything threaded
loads; it imports what it needs itself, never runs the parent's atexit handlers or flushes its buffers (it ends
with `os._exit`), and stops by itself when the command is gone (killed). Not forked for steps on Celery workers
(another process, maybe another host), an object store (`stage_file` sends the bytes there), a pipe (read once,
by the step), a file under `MIN_FORK_BYTES` (the step copies it faster than a child starts) or when a crash test
hook is set (those tests stop the step's own copy).

The copy is `raw/objects/.tmp-*`, like any staged copy, created by the command under the data dir's writers lock
and held with an exclusive `flock` of its own for as long as it is the command's (`lake.layout.hold_in_use`): the
clean-up of interrupted runs (transforms/recovery.py, at the run's start and in any other command) leaves a held
copy alone and does not report it. A copy no step took is removed and the child stopped and reaped when the
command's import ends, fails or is interrupted (Ctrl-C, SIGTERM); a command killed meanwhile leaves an ordinary
`.tmp-*` file, no longer held, which the next command removes.

This module imports only the standard library at the top: it is loaded before the fork.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lake.layout import hold_in_use, writing

if TYPE_CHECKING:
    from transforms.archive import StagedObject
    from transforms.settlement.line_scan import LineScan

_TASKS = "/proc/self/task"
_PR_SET_PDEATHSIG = 1
# Below this the step's own copy takes less than the child costs (about 0.2 CPU s: the fork, NumPy's import for
# the line scan, the copy's threads; measured on the 4 KB sample, round `h-fork`): most settlement files are a
# few MB, and the start-up's idle core is worth it only for the large ones.
MIN_FORK_BYTES = 64 << 20


@dataclass(frozen=True)
class FileIdentity:
    """A file as opened: the step takes the copy only for this file, unchanged."""

    device: int
    inode: int
    size: int
    modified_ns: int

    @classmethod
    def of(cls, status: os.stat_result) -> FileIdentity:
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def reap_child(pid: int | None, *, kill: bool) -> int | None:
    """Wait for the forked child `pid` (SIGKILL first with `kill`); its exit status, None when there is none to
    wait for (already reaped, or none started)."""
    if pid is None:
        return None
    if kill:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return None
    return os.waitstatus_to_exitcode(status)


def die_with_parent(sig: int) -> None:
    """PR_SET_PDEATHSIG: the kernel sends `sig` to this process when its parent ends (0: nothing). For a forked
    child that must not outlive the command (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def single_threaded() -> bool:
    """Whether this process has exactly one thread, native ones included (Linux: /proc/self/task)."""
    try:
        return len(os.listdir(_TASKS)) == 1
    except OSError:
        return False  # no way to tell: no fork


def fork_refused(first: Path, env: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """Why `acorn import` must not fork a copy of `first` (a short reason), or None."""
    from lake.object_store import object_store_settings
    from orchestration.executor import ExecutorConfigError, executor_kind
    from transforms import crash_points

    env = os.environ if env is None else env
    if not hasattr(os, "fork"):
        return "no fork on this platform"
    if env.get(crash_points.ENV_POINT):
        return "a crash test hook is set"
    try:
        if executor_kind(env) != "in_process":
            return "the steps run on Celery workers"
    except ExecutorConfigError:
        return "the executor is misconfigured (the run says how)"
    if object_store_settings(env).is_s3:
        return "the archive is copied to an object store"
    try:
        status = os.stat(first)
    except OSError:
        return "not readable"
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if status.st_size < MIN_FORK_BYTES:
        return "a small file"
    if not single_threaded():
        return "the process has more than one thread"
    return None


def send_report(write_fd: int, report: dict[str, Any]) -> None:
    """The child's report to `HeldForkedCopy._read_report`, whole, through the pipe's write end."""
    data = json.dumps(report).encode()
    while data:
        data = data[os.write(write_fd, data) :]


class HeldForkedCopy:
    """A copy of a file that a forked child fills, into a file this process created and holds (`hold_in_use`),
    with the child's report coming through a pipe: what `acorn import`'s archive copy (`ForkedCopy`) and `acorn
    build`'s warehouse copy (orchestration/warehouse/precopy.py) share. `path` is the copy while it is this
    object's to remove; `release` stops the child and lets go of everything not taken."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.pid: int | None = None
        self._copy_fd: int | None = None
        self._result_fd: int | None = None

    def _read_report(self) -> dict[str, Any] | None:
        """What the child reported through the pipe, once it ended (waits for it, reaps it); None if it failed
        or reported nothing readable."""
        chunks = []
        if self._result_fd is not None:
            try:
                while chunk := os.read(self._result_fd, 1 << 16):
                    chunks.append(chunk)
            finally:
                os.close(self._result_fd)
                self._result_fd = None
        if self._reap(kill=False) != 0:
            return None
        try:
            report = json.loads(b"".join(chunks))
        except ValueError:
            return None
        return report if isinstance(report, dict) else None

    def _reap(self, *, kill: bool) -> int | None:
        """Wait for the child (SIGKILL first with `kill`); its exit status, None when already reaped."""
        pid, self.pid = self.pid, None
        return reap_child(pid, kill=kill)

    def _remove_copy(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def _close_copy_fd(self) -> None:
        if self._copy_fd is not None:
            os.close(self._copy_fd)
            self._copy_fd = None

    def release(self) -> None:
        """Kill and reap the child if it runs, remove the copy unless taken, let go of its hold. Idempotent."""
        try:
            if self._result_fd is not None:
                os.close(self._result_fd)
                self._result_fd = None
            self._reap(kill=True)
            self._remove_copy()
        finally:
            self._close_copy_fd()  # (the hold goes with the last descriptor: the child's is gone)


class ForkedCopy(HeldForkedCopy):
    """The child copying `src` into `data_dir`'s raw archive, and the copy; see the module."""

    def __init__(self, src: Path, data_dir: Path) -> None:
        super().__init__()
        self.src = Path(src)
        self.data_dir = Path(data_dir).resolve()
        self.identity: FileIdentity | None = None
        self._taken = False

    def start(self) -> None:
        """Create the copy's file (held), fork the child that fills it; OSError when the file cannot be
        opened (the step then meets it). Call only while the process has a single thread."""
        objects = self.data_dir / "raw" / "objects"
        with writing(self.data_dir):  # the clean-up takes it exclusively: it cannot see the copy unheld
            objects.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".tmp-", dir=objects)
            self._copy_fd, self.path = fd, Path(name)
            hold_in_use(fd)
        src_fd = os.open(self.src, os.O_RDONLY | os.O_CLOEXEC)
        try:
            self.identity = FileIdentity.of(os.fstat(src_fd))
            read_fd, write_fd = os.pipe()
            parent = os.getpid()
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(read_fd)
                _child(src_fd, fd, write_fd, parent)
            self.pid = pid
            os.close(write_fd)
            self._result_fd = read_fd
        finally:
            os.close(src_fd)

    def take(self, src: Path) -> tuple[StagedObject, LineScan] | None:
        """The finished copy of `src` with its line scan, once the child made it (waits); None when it is not
        `src` as copied, the child failed, or the file changed (the copy is then removed here)."""
        from transforms.archive import StagedObject
        from transforms.settlement.line_scan import LineScan

        if self._taken or self.path is None or self.identity is None:
            return None
        try:
            if FileIdentity.of(os.stat(src)) != self.identity:
                return None  # another file: the copy stays for none and is removed at close
        except OSError:
            return None
        self._taken = True
        result = self._result()
        try:
            unchanged = FileIdentity.of(os.stat(src)) == self.identity
        except OSError:
            unchanged = False
        if result is None or not unchanged or result["identity"] != list(vars(self.identity).values()):
            self._remove_copy()
            return None
        scan = LineScan()
        for name, value in result["scan"].items():
            setattr(scan, name, tuple(value) if isinstance(value, list) else value)
        staged = StagedObject(self.path, result["sha256"], int(result["size"]))
        self.path = None  # the step's now: committed or dropped by it, or an ordinary leftover
        return staged, scan

    def _result(self) -> dict[str, Any] | None:
        """What the child reported (waits for it to end), None if it failed."""
        report = self._read_report()
        return report if report is not None and "sha256" in report else None

    def close(self) -> None:
        """Stop and reap the child, remove the copy unless a step took it, let go of its hold."""
        self.release()


def _child(src_fd: int, copy_fd: int, write_fd: int, parent: int) -> None:
    """The forked child: copy, hash and scan; report through `write_fd`; end with os._exit (never returns)."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the command stops us
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from transforms.archive import _copy_and_hash
        from transforms.settlement.line_scan import LineScan

        scan = LineScan()

        def feed(chunk: bytes) -> None:
            if os.getppid() != parent:
                os._exit(1)  # the command was killed: its copy is an ordinary leftover now
            scan.feed(chunk)

        sha, size = _copy_and_hash(src_fd, copy_fd, feed)
        after = FileIdentity.of(os.fstat(src_fd))
        state = {name: value for name, value in vars(scan).items()}
        report = {"sha256": sha, "size": size, "scan": state, "identity": list(vars(after).values())}
        send_report(write_fd, report)
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)


_ACTIVE: list[ForkedCopy] = []  # the copy this process forked, until its import ends


class _Terminated(KeyboardInterrupt):
    """SIGTERM while a forked copy is the command's: unwinds to `unwinding_on_sigterm`, which cleans up."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


@contextlib.contextmanager
def unwinding_on_sigterm(cleanup: Callable[[], None]) -> Iterator[None]:
    """A SIGTERM unwinds the block as Ctrl-C does (while a run executes, Dagster handles SIGTERM so itself),
    `cleanup` runs however the block ends (it stops the forked children and removes their copies), and after a
    SIGTERM the command then ends by that signal, as it did without them."""
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _terminated)
    terminated = False
    try:
        yield
    except _Terminated:
        terminated = True
    finally:
        cleanup()
        if terminated or signal.getsignal(signal.SIGTERM) is _terminated:
            signal.signal(signal.SIGTERM, previous)
    if terminated:
        os.kill(os.getpid(), signal.SIGTERM)  # (the previous handler: by default, the command ends by it)
        raise KeyboardInterrupt  # a handler that returned: stop as Ctrl-C would


@contextlib.contextmanager
def forked_copy(first: Path, data_dir: Path) -> Iterator[ForkedCopy | None]:
    """Fork the child copying `first` (unless `fork_refused`), for the run's step to `claim`; around the run.

    Ctrl-C (KeyboardInterrupt) and SIGTERM stop the child and remove the copy; a SIGTERM then ends the command
    by that signal, as it did without a copy (`unwinding_on_sigterm`)."""
    if fork_refused(first) is not None:
        yield None
        return
    copy = ForkedCopy(first, data_dir)

    def cleanup() -> None:
        with contextlib.suppress(ValueError):
            _ACTIVE.remove(copy)
        copy.close()

    with unwinding_on_sigterm(cleanup):
        try:
            copy.start()
        except OSError:
            copy.close()
            yield None
            return
        _ACTIVE.append(copy)
        yield copy


def claim(src: Path, data_dir: Path) -> tuple[StagedObject, LineScan] | None:
    """The copy of `src` this process forked for `data_dir`, with its line scan, when it is that file unchanged
    (waits for the child to finish); None otherwise (the caller copies it itself)."""
    if not _ACTIVE:
        return None
    resolved = Path(data_dir).resolve()
    for copy in _ACTIVE:
        if copy.data_dir == resolved:
            return copy.take(Path(src))
    return None
