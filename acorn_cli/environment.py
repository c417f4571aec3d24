"""Process set-up shared by every `acorn` command: quiet, offline tools and a Dagster home that exists.

Several `acorn` commands may start at once on one Dagster home (two imports, cron's `acorn run` while a person
imports). Everything that creates the home's shared files is therefore done under one lock file in the home
(`.acorn-instance.lock`): writing `dagster.yaml` (atomically, so no process reads it half written), and the
first creation of the instance's SQLite storage, whose tables Dagster creates without a lock of its own (the
second of two first runs used to fail with "table secondary_indexes already exists").

Dagster's SQLite storage (the default, without ACORN_DAGSTER_POSTGRES_URL) opens a new connection for every event
it records, commits it and closes it: with SQLite's defaults each commit syncs the write-ahead log to disk, and
each close, as the file's last connection, copies the log into the database and syncs that too. A build records
about 600 events, so on a busy disk a no-op `acorn build` spent 8 of its 27 s in those syncs. `fast_run_history`
makes the commands' own connections to the home's SQLite files use `synchronous=NORMAL` (SQLite's recommended
setting in WAL mode: the database stays consistent through any crash; a power cut may lose the last events
written, never corrupt the file), and keeps one idle connection per file open for the process's life, so a
closing connection is never the last one and the log is copied into the database only when it grows past
SQLite's own threshold (1000 pages) or by the last process to close it. Nothing else changes: every event is
still written, in order, in one transaction each, visible at once to the UI and to other `acorn` processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lake.layout import held_flock
from orchestration.paths import REPO_ROOT

if TYPE_CHECKING:
    import dagster as dg

INSTANCE_LOCK = ".acorn-instance.lock"

QUIET_OFFLINE = {
    "DO_NOT_TRACK": "1",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "GX_ANALYTICS_ENABLED": "false",
    "UV_PYTHON_DOWNLOADS": "never",
    "TQDM_DISABLE": "1",
}

DAGSTER_YAML = """\
# Written by `acorn`; the instance keeps its run history here (SQLite) unless ACORN_DAGSTER_POSTGRES_URL is set.
telemetry:
  enabled: false
# The daemon (`acorn ui`) fails runs that never started and runs whose worker it sees gone; runs of an `acorn`
# command that was killed are marked failed by the next `acorn` command and by the next run's first step.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
"""

DAGSTER_YAML_POSTGRES = (
    DAGSTER_YAML
    + """\
storage:
  postgres:
    postgres_url:
      env: ACORN_DAGSTER_POSTGRES_URL
"""
)


def prepare_environment() -> Path:
    """Set the quiet/offline variables (without overriding the user's) and make sure DAGSTER_HOME is usable."""
    for name, value in QUIET_OFFLINE.items():
        os.environ.setdefault(name, value)
    home = Path(os.environ.get("DAGSTER_HOME") or REPO_ROOT / ".dagster_home").resolve()
    os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    wanted = DAGSTER_YAML_POSTGRES if os.environ.get("ACORN_DAGSTER_POSTGRES_URL") else DAGSTER_YAML
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text(encoding="utf-8") != wanted:
        with instance_lock(home):
            scratch = home / f".dagster.yaml.{os.getpid()}.tmp"
            scratch.write_text(wanted, encoding="utf-8")
            os.replace(scratch, config)
    return home


_KEPT: dict[str, sqlite3.Connection] = {}
_KEPT_LOCK = threading.Lock()
_KEPT_BY: dict[str, int] = {"pid": os.getpid()}
_INHERITED: list[sqlite3.Connection] = []
_LISTENING: set[str] = set()
_TUNED = "acorn_tuned"


def fast_run_history(home: Path) -> None:
    """Make this process's connections to the SQLite files under `home` cheap to commit and close (see the
    module's doc). Idempotent; a no-op for any other database (Postgres storage, DuckDB). Installed when the
    process first opens the instance (`dagster_instance`), as Dagster imports SQLAlchemy anyway."""
    if str(home) in _LISTENING:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    prefix = str(home.resolve()) + os.sep

    def on_connect(connection: Any) -> None:
        path = connection.engine.url.database
        if connection.engine.dialect.name == "sqlite" and path and path.startswith(prefix):
            pooled = connection.connection
            if pooled.info.get(_TUNED):
                return  # a pooled connection kept by the engine (sqlite_engines.py): tuned when first opened
            raw = pooled.dbapi_connection
            if isinstance(raw, sqlite3.Connection) and tune_sqlite(raw, path):
                pooled.info[_TUNED] = True

    event.listen(Engine, "engine_connect", on_connect)
    _LISTENING.add(str(home))


def tune_sqlite(connection: sqlite3.Connection, path: str) -> bool:
    """`synchronous=NORMAL` on a WAL-mode connection to the SQLite file `path`, and an idle connection kept open
    to that file (once per file and process), so that closing `connection` never checkpoints. Whether the
    connection was tuned."""
    if _KEPT_BY.get("pid") != os.getpid():
        # A forked child (acorn never forks, but a library might) must not use its parent's SQLite connections:
        # it keeps them unreferenced-but-alive (closing them here could disturb the parent) and opens its own.
        _INHERITED.extend(_KEPT.values())
        _KEPT.clear()
        _KEPT_BY["pid"] = os.getpid()
    try:
        if path not in _KEPT:
            [(mode,)] = connection.execute("pragma journal_mode").fetchall()
            if str(mode).lower() != "wal":
                return (
                    False  # a file being created: Dagster turns WAL on next, and the next connection is tuned
                )
            with _KEPT_LOCK:
                if path not in _KEPT:
                    keeper = sqlite3.connect(path, timeout=30, check_same_thread=False)
                    keeper.execute("select count(*) from sqlite_master").fetchall()  # opens the WAL index
                    _KEPT[path] = keeper
        connection.execute("pragma synchronous=NORMAL")
    except sqlite3.Error:
        return False  # busy (another process creating the file): this connection keeps SQLite's defaults
    return True


@contextlib.contextmanager
def instance_lock(home: Path) -> Iterator[None]:
    """Hold the Dagster home's set-up lock (waiting for another `acorn` process that holds it)."""
    with held_flock(home, INSTANCE_LOCK, fcntl.LOCK_EX):
        yield


@contextlib.contextmanager
def dagster_instance() -> Iterator[dg.DagsterInstance]:
    """The Dagster instance of DAGSTER_HOME, its storage created (on a fresh home) by one process at a time."""
    import dagster as dg

    from acorn_cli.instance_storage import InstanceUnavailable, instance_storage, probe, scrubbed

    home = Path(os.environ["DAGSTER_HOME"])
    storage = instance_storage()
    if storage.url is not None:
        # Unreachable: one line with the cause and the fix, exit 3, never the password (instance_storage.py).
        probe(storage, count_runs=False)
    fast_run_history(home)
    with instance_lock(home):
        # Creating the instance creates (or migrates) every storage's tables: done once, under the lock.
        try:
            instance = dg.DagsterInstance.get()
        except Exception as error:
            if storage.url is None:
                raise
            cause = scrubbed(" ".join(str(error.__cause__ or error).split()), storage.url)
            raise InstanceUnavailable(storage, cause, "run `acorn doctor`") from None
    if storage.url is None:
        from acorn_cli.sqlite_engines import reuse_engines

        reuse_engines(instance)
    with instance:
        yield instance
