"""dbt started ahead: `acorn build` forks a process that imports dbt while the command loads Dagster, and the
build's `acorn-dbt` hands its command to that process instead of importing dbt itself.

Why: a build's dbt process spends its first 2-3 s (about 1.9 CPU s) importing dbt and its DuckDB adapter, on
one core, after the `acorn` process has spent its own first seconds loading Dagster on one core, the other idle.
Started ahead, dbt's import runs beside Dagster's and the build's dbt starts with it done.

It stays the same dbt:
- `start_dbt_ahead` forks while the process has one thread, before it loads anything beyond ACORN's command
  line. The child resets what the command tuned (garbage collection), imports dbt's command line and the DuckDB
  adapter, then waits for one command on a Unix socket in a private folder, which PRESTARTED_DBT_ENV names in
  the environment dagster-dbt passes to `acorn-dbt`.
- `acorn-dbt` sends the arguments, folder and environment it would run dbt with, and its stdin, stdout and
  stderr (SCM_RIGHTS); the process takes them as its own, runs dbt's command line as `acorn-dbt` would
  (dbt_command.run_dbt), does what dbt's own process does as it exits (its exit handlers: the DuckDB adapter
  closes its database, multiprocessing unlinks the semaphores of dbt's locks) and sends back the exit code, with
  which `acorn-dbt` exits. `acorn-dbt` forwards SIGINT and SIGTERM to it (dagster-dbt interrupts dbt with
  SIGINT).
- One command per process: it stops listening once it has one. Any `acorn-dbt` that finds no process to take
  its command (none started, already taken, gone, or its import failed) runs dbt itself, as before.
- While it waits it dies with its parent (PR_SET_PDEATHSIG) and a Ctrl-C ends it quietly. Once it runs dbt it
  behaves as dbt's own process: a Ctrl-C in the terminal reaches it through the process group, as it reached a
  dbt child; a killed `acorn` leaves it to finish, as it left a dbt child.
- `acorn build` reaps it before it exits (so its CPU and memory are counted in the command's, as a dbt child's
  were), killing it first when no command came.

Off with ACORN_DBT_PRESTART=0, off where `fork` is not Linux's, and not started by a process that is not an
`acorn` command's own or that has a thread.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from orchestration.paths import DBT_SAVED_PARSES_DIR, lake_written_since_last_build
from orchestration.warehouse.dbt_command import PRESTARTED_DBT_ENV
from transforms.prestage import die_with_parent, single_threaded

if TYPE_CHECKING:
    from orchestration.warehouse.dbt_command import DbtStart

PRESTART_SWITCH_ENV = "ACORN_DBT_PRESTART"
# A command is arguments and an environment of a few KB; a seqpacket message arrives whole or not at all.
_MAX_MESSAGE = 1 << 20
_SOCKET_NAME = "dbt.sock"
_LONGEST_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux
# CPython's own thresholds (the `acorn` command raises them for itself; dbt runs with the defaults, as before).
_PYTHON_GC_THRESHOLDS = (700, 10, 10)
# What dbt imports before its first event: its command line and the adapter the profile names.
_DBT_MODULES = ("dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.duckdb.impl", "dbt.task.build")


@dataclass
class PrestartedDbt:
    """The process `start_dbt_ahead` forked, until `stop` reaps it."""

    pid: int
    folder: Path
    taken_reader: int  # the child writes one byte here when it takes a command
    stopped: bool = field(default=False)
    _taken: bool = field(default=False)

    def taken(self) -> bool:
        """Whether the process took a command (it is, or was, dbt)."""
        if not self._taken and not self.stopped:
            os.set_blocking(self.taken_reader, False)
            with contextlib.suppress(BlockingIOError):
                self._taken = bool(os.read(self.taken_reader, 1))
        return self._taken

    def stop(self) -> None:
        """Reap the process: killed first when it took no command, else waited for (its command's `acorn-dbt`
        has seen it finish by the time the build ends). Idempotent."""
        if self.stopped:
            return
        taken = self.taken()
        self.stopped = True
        if os.environ.get(PRESTARTED_DBT_ENV) == str(self.folder / _SOCKET_NAME):
            del os.environ[PRESTARTED_DBT_ENV]
        if self in _STARTED:
            _STARTED.remove(self)
        if not taken:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.taken_reader)
        shutil.rmtree(self.folder, ignore_errors=True)


# The process this one started ahead and has not stopped yet (at most one).
_STARTED: list[PrestartedDbt] = []


def started_ahead() -> PrestartedDbt | None:
    """The dbt process this process started ahead, until it is stopped."""
    return _STARTED[-1] if _STARTED else None


def prestart_enabled() -> bool:
    return os.environ.get(PRESTART_SWITCH_ENV, "1") != "0" and sys.platform.startswith("linux")


def likely_to_run_dbt(warehouse: Path, lake: Path) -> bool:
    """Whether a build of this data dir will probably run dbt: no record of the last build, or something in the
    lake written since it. Only a guess for whether to start dbt ahead: when wrong, either a build runs dbt as
    it did before, or a process that was importing dbt is killed (CPU spent on the other core, no wall time)."""
    written = lake_written_since_last_build(warehouse, lake)
    return written is None or next(written, None) is not None


def start_dbt_ahead() -> PrestartedDbt | None:
    """Fork the process that imports dbt and waits for a build's dbt command; None when it cannot be (off, or
    the process has another thread, native ones included (DuckDB's import starts one): forking it would copy
    locks that thread may hold)."""
    if not prestart_enabled() or not single_threaded():
        return None
    folder = Path(tempfile.mkdtemp(prefix="acorn-dbt-"))
    path = folder / _SOCKET_NAME
    if len(os.fsencode(path)) > _LONGEST_SOCKET_PATH:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(str(path))
    listener.listen(1)
    taken_reader, taken_writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child; its behaviour is tested through `acorn build`)
        os.close(taken_reader)
        _serve(listener, taken_writer, parent)
    listener.close()
    os.close(taken_writer)
    os.environ[PRESTARTED_DBT_ENV] = str(path)
    started = PrestartedDbt(pid, folder, taken_reader)
    _STARTED.append(started)
    return started


def warm_up_dbt(saved_parses: Path = DBT_SAVED_PARSES_DIR) -> list[str]:
    """Do ahead what every dbt process does the first time it needs it, whatever its command: compile the code
    that validates a project and a profile (JSON schemas, built on first use and cached for the process) and the
    code that reads and writes a manifest's nodes (generated on first use per node class), by reading the latest
    saved parse of a build and building its flat graph. In a daily build's dbt this first-use code generation
    was about a third of the main thread's work before its first node (docs/performance.md, round `lead-dbt`).
    What it reads is thrown away: dbt reads its own saved parse (checked against the project) as before.
    Never fails (a warm-up that cannot be done leaves the work to dbt); what it did, for tests."""
    done: list[str] = []
    # A saved parse removed meanwhile, or written by another dbt version: the warm-up stops there.
    with contextlib.suppress(Exception):
        from dbt.adapters.duckdb.credentials import DuckDBCredentials
        from dbt.contracts.project import PackageConfig, Project, ProjectFlags

        for schema_of in (Project, ProjectFlags, PackageConfig, DuckDBCredentials):
            schema_of.json_schema()
        done.append("schemas")
        latest = max(saved_parses.glob("*.msgpack"), key=lambda path: path.stat().st_mtime, default=None)
        if latest is not None:
            from dbt.contracts.graph.manifest import Manifest

            manifest = Manifest.from_msgpack(latest.read_bytes())
            manifest.build_flat_graph()
            del manifest
            gc.collect()
            done.append("manifest")
    return done


def _serve(listener: socket.socket, taken_writer: int, parent: int) -> None:  # pragma: no cover (the child)
    """The forked process: import dbt, take one command, run it, send its exit code. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        die_with_parent(signal.SIGKILL)
        if os.getppid() != parent:  # the parent ended before the line above
            os._exit(0)
        gc.set_threshold(*_PYTHON_GC_THRESHOLDS)
        for module in _DBT_MODULES:
            __import__(module)
        warm_up_dbt()
        connection, _ = listener.accept()
        listener.close()
        message, fds, _flags, _address = socket.recv_fds(connection, _MAX_MESSAGE, 3)
        if len(fds) != 3:
            os._exit(1)  # not a command: the client runs dbt itself when it gets no reply
        request = json.loads(message)
        os.write(taken_writer, b"1")
        os.close(taken_writer)
        die_with_parent(0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        connection.sendall(json.dumps({"pid": os.getpid()}).encode())
        for fd, standard in zip(fds, (0, 1, 2), strict=True):
            os.dup2(fd, standard)
            os.close(fd)
        # Python chose stdout's buffering for the terminal `acorn` had; dbt's own process saw this one.
        sys.stdout.reconfigure(line_buffering=os.isatty(1))  # type: ignore[union-attr]
        from orchestration.warehouse.dbt_command import DbtStart, run_dbt

        start = DbtStart(Path(request["cwd"]), list(request["args"]), dict(request["env"]))
        code = run_dbt(start, request["program"])
        _exit_as_dbt_would()
        connection.sendall(json.dumps({"exit_code": code}).encode())
    except BaseException:  # a process that must end here, whatever happened
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
    os._exit(code)


def _exit_as_dbt_would() -> None:  # pragma: no cover (the child)
    """What dbt's own process does as it exits, before the caller hears the exit code: the exit handlers dbt and
    its libraries registered (the DuckDB adapter closes its database, so no read-write hold outlives the exit
    code; multiprocessing unlinks the semaphores dbt's spawn-context locks made, which its resource tracker
    otherwise reports as leaked on the user's terminal once this process is gone), then the standard streams
    flushed. The only handler registered before the fork is the command's `gc.freeze`, harmless here. The
    interpreter's teardown is still skipped (`os._exit`): the rest is the parent's memory."""
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()  # a handler's error is printed by atexit itself, as at a normal exit
    sys.stdout.flush()
    sys.stderr.flush()


def run_in_prestarted(socket_path: str, start: DbtStart, program: str) -> int | None:
    """dbt's exit code from the process started ahead, or None when no such process took the command (nothing
    has run then: the caller runs dbt itself)."""
    payload = json.dumps(
        {"cwd": str(start.cwd), "args": start.args, "env": start.env, "program": program}
    ).encode()
    if len(payload) > _MAX_MESSAGE:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with connection:
        try:
            connection.connect(socket_path)
            socket.send_fds(connection, [payload], [0, 1, 2])
            reply = connection.recv(_MAX_MESSAGE)  # once the process has imported dbt and taken the command
        except OSError:
            return None
        if not reply:
            return None
        pid = int(json.loads(reply)["pid"])
        forwarded: list[int] = []

        def forward(signum: int, _frame: FrameType | None) -> None:
            forwarded.append(signum)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, forward)
        try:
            result = connection.recv(_MAX_MESSAGE)
        except OSError:
            result = b""
    if result:
        return int(json.loads(result)["exit_code"])
    if forwarded:  # it ended on the signal it was sent: so does this process, as dbt's own would have
        signal.signal(forwarded[-1], signal.SIG_DFL)
        os.kill(os.getpid(), forwarded[-1])
    print(
        f"acorn-dbt: dbt (pid {pid}, started ahead by acorn build) ended without an exit code",
        file=sys.stderr,
    )
    return 1
