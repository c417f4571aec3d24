"""Reading the published warehouse (`data/warehouse.duckdb`) from any domain: the warehouse domain builds and
publishes it (warehouse/publish.py), the quality checks and the CLI read it. Shared here so that no domain
imports another to read it the same way a build does.

DuckDB lets one process hold a database file read-write, or any number read-only, never both: a reader here
opens it read-only, and a program holding it read-write is reported with DuckDB's own message (which names the
holding pid) and the fix.

Opening the file costs DuckDB about 40 ms (its catalog, its thread pool), and a build's checks open it one after
the other, about twenty times. Within `shared_reads` (an `acorn` command's run: acorn_cli/runs.py) the readers
of one published file share one read-only database instead, each given a connection of its own to it (DuckDB's
`cursor()`, a fraction of a millisecond): the same file, read-only, bounded the same way. A replaced file (a
build published meanwhile: another inode, size or mtime) gets a database of its own; every shared database is
closed when the outermost `shared_reads` ends.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lake.memory import QUERY_MEMORY_LIMIT, bounded_connection
from orchestration.outcomes import WarehouseLocked
from orchestration.warehouse_catalog import configured_warehouse, ducklake_connection


def is_lock_conflict(error: duckdb.Error) -> bool:
    """Whether DuckDB refused to open the file because another process holds it (read-write, or read-only when
    this one asked for read-write)."""
    return "Could not set lock on file" in str(error)


@dataclass
class _SharedDatabase:
    """One published file's read-only database, shared by the readers of a `shared_reads` block."""

    identity: tuple[int, ...]
    memory_limit: str
    stack: contextlib.ExitStack
    connection: duckdb.DuckDBPyConnection
    users: int = 0


_SHARED: dict[str, _SharedDatabase] = {}
_SHARED_LOCK = threading.RLock()
_SHARING: list[int] = []  # one entry per open `shared_reads` block (runs may execute in threads)


@contextlib.contextmanager
def shared_reads() -> Iterator[None]:
    """Within the block, `read_only` connections to one published file share one read-only DuckDB database
    (see the module's doc); closed when the outermost block ends."""
    with _SHARED_LOCK:
        _SHARING.append(1)
    try:
        yield
    finally:
        with _SHARED_LOCK:
            _SHARING.pop()
            if not _SHARING:
                for key in [key for key, shared in _SHARED.items() if shared.users == 0]:
                    _SHARED.pop(key).stack.close()


def _identity(path: Path) -> tuple[int, ...]:
    status = os.stat(path)
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def _close_idle(key: str) -> bool:
    """Close the shared database of `key` unless a reader uses it; whether none is left open. Under the lock."""
    shared = _SHARED.get(key)
    if shared is None:
        return True
    if shared.users:
        return False
    _SHARED.pop(key).stack.close()
    return True


@contextlib.contextmanager
def _shared_connection(warehouse: Path, memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A connection to the shared database of `warehouse` (opened, or opened again for a replaced file), or None
    when no `shared_reads` block is open, or when a reader still uses the database of the file's other version
    or memory limit (this reader then opens its own, as outside the block)."""
    key = str(warehouse.absolute())
    with _SHARED_LOCK:
        shared = None
        if _SHARING and warehouse.exists():
            identity = _identity(warehouse)
            shared = _SHARED.get(key)
            if shared is not None and (shared.identity, shared.memory_limit) != (identity, memory_limit):
                shared = None
                if not _close_idle(key):
                    identity = ()
            if shared is None and identity:
                stack = contextlib.ExitStack()
                connection = stack.enter_context(_opened(warehouse, memory_limit))
                shared = _SHARED[key] = _SharedDatabase(identity, memory_limit, stack, connection)
        if shared is not None:
            shared.users += 1
            cursor = shared.connection.cursor()
    if shared is None:
        yield None
        return
    try:
        cursor.execute("set TimeZone = 'UTC'")
        cursor.execute("set enable_progress_bar = false")
        yield cursor
    finally:
        cursor.close()
        with _SHARED_LOCK:
            shared.users -= 1
            if not _SHARING and shared.users == 0 and _SHARED.get(key) is shared:
                _SHARED.pop(key).stack.close()


@contextlib.contextmanager
def read_only(
    warehouse: Path, *, memory_limit: str = QUERY_MEMORY_LIMIT, own: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the published warehouse, bounded to `memory_limit` (lake/memory.py);
    `WarehouseLocked` (with DuckDB's message, which names the holding pid) when a program has it open
    read-write. In scale-out (ACORN_WAREHOUSE_CATALOG_URL set) the DuckLake catalog at its last published build
    instead, attached as `warehouse` and in use (orchestration/warehouse_catalog.py).

    Within `shared_reads`, a connection to the block's shared database of the file, unless `own`: a database of
    this reader's own (a publish holds one as a lock while it copies or replaces the file, and loses DuckDB's
    lock when it closes a descriptor of the file; any shared database of the file is closed first)."""
    catalog = configured_warehouse(warehouse)
    if catalog is not None:
        with ducklake_connection(catalog, published=True, memory_limit=memory_limit) as connection:
            yield connection
        return
    if own:
        with _SHARED_LOCK:
            _close_idle(str(warehouse.absolute()))
    else:
        with _shared_connection(warehouse, memory_limit) as shared:
            if shared is not None:
                yield shared
                return
    with _opened(warehouse, memory_limit) as connection:
        yield connection


@contextlib.contextmanager
def _opened(warehouse: Path, memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only database of its own on the file, bounded; `WarehouseLocked` when it is held read-write."""
    with contextlib.ExitStack() as stack:
        try:
            connection = stack.enter_context(
                bounded_connection(str(warehouse), read_only=True, memory_limit=memory_limit)
            )
        except duckdb.IOException as error:
            if not is_lock_conflict(error):
                raise
            raise WarehouseLocked(
                f"A program has the warehouse {warehouse} open read-write, so it cannot be read or rebuilt: "
                f"{error}. Close that program (open the warehouse read-only instead: "
                f"`duckdb -readonly {warehouse}`, or `duckdb.connect(path, read_only=True)`), then build again."
            ) from error
        yield connection
