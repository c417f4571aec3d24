"""One SQLAlchemy engine per SQLite file for the Dagster instance an `acorn` command opens.

Dagster's SQLite storages (the embedded default) create a new SQLAlchemy engine for every connection they open:
the event log for each event it records (twice for an asset event, three times for a check evaluation or a
planned one), the run storage for each run update, and the event log asks SQLite whether the asset-check table
exists (one more engine) before each check event. A new engine starts with an empty compiled-statement cache
and a new SQLite connection, which `fast_run_history` (environment.py) then tunes: in a daily build at H = 4
those connections were about a fifth of the `acorn` process's CPU samples (docs/performance.md, round
`h-fixed`).

`reuse_engines` makes this process's instance keep one engine per file, with one pooled connection, for the
instance's life: each write is still its own transaction (`begin`, commit), in order, under the storage's own
lock, visible at once to the UI and to other processes; the table check is asked once and kept once true (a
table is never dropped while an instance is open). The storages' classes and the `dagster.yaml` are unchanged:
the webserver, the daemon and the Celery workers open the same files with Dagster's own code. Nothing changes
for PostgreSQL storage. Patched per instance object, on private Dagster methods:
tests/acorn_cli/test_sqlite_engines.py fails if a Dagster upgrade renames them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg


def _engine(conn_string: str, connect_args: dict[str, Any]) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    # One connection, kept between uses (the storages' NullPool opened and closed one per use); used by one
    # thread at a time (the storages' locks), so SQLite's same-thread check is off, as SQLAlchemy's own pools do.
    return create_engine(
        conn_string,
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=4,
        connect_args={**connect_args, "check_same_thread": False},
    )


def reuse_engines(instance: dg.DagsterInstance) -> bool:
    """Make `instance`'s SQLite event log and run storage keep one engine per file; False (nothing done) for any
    other storage."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
    from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

    events = instance.event_log_storage
    runs = instance.run_storage
    if type(events) is not SqliteEventLogStorage or type(runs) is not SqliteRunStorage:
        return False
    engines: dict[str, Any] = {}
    engines_lock = threading.Lock()

    @contextlib.contextmanager
    def event_connection(shard: str) -> Iterator[Any]:
        # SqliteEventLogStorage._connect, with the shard's engine kept.
        with events._db_lock:
            engine = engines.get(shard)
            if engine is None:
                engine = _engine(
                    events.conn_string_for_shard(shard), {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
                )
                if shard not in events._initialized_dbs:
                    events._initdb(engine)
                    events._initialized_dbs.add(shard)
                engines[shard] = engine
            with engine.connect() as connection, connection.begin():
                yield connection

    tables: set[str] = set()
    has_table = events.has_table

    def kept_has_table(table_name: str) -> bool:
        if table_name in tables:
            return True
        found = has_table(table_name)
        if found:
            tables.add(table_name)
        return found

    run_engine: list[Any] = []

    @contextlib.contextmanager
    def run_connection() -> Iterator[Any]:
        # SqliteRunStorage.connect, with its engine kept.
        with engines_lock:
            if not run_engine:
                run_engine.append(_engine(runs._conn_string, {}))
        with run_engine[0].connect() as connection, connection.begin():
            yield connection

    dispose_events = events.dispose
    dispose_runs = runs.dispose

    def events_disposed() -> None:
        dispose_events()
        with events._db_lock:
            for engine in engines.values():
                engine.dispose()
            engines.clear()

    def runs_disposed() -> None:
        dispose_runs()
        with engines_lock:
            for engine in run_engine:
                engine.dispose()
            run_engine.clear()

    events._connect = event_connection  # type: ignore[method-assign]
    events.has_table = kept_has_table  # type: ignore[method-assign]
    events.dispose = events_disposed  # type: ignore[method-assign]
    runs.connect = run_connection  # type: ignore[method-assign]
    runs.dispose = runs_disposed  # type: ignore[method-assign]
    return True
