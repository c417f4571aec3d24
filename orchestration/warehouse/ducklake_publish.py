"""Build and publish the warehouse in a DuckLake catalog (scale-out; README "Scale-out"): no copy, no file swap.

Every DuckLake commit is an atomic snapshot, and readers attach at the snapshot of the last *published* build
(orchestration/warehouse_catalog.py), so a build writes the catalog in place:

1. takes the catalog's writer lock: a PostgreSQL advisory lock in the catalog's database, held by one
   connection for the whole build. A second build, on any host, fails at once with `WarehouseLocked` naming the
   holder (its pid, host and start, from PostgreSQL's own session list). PostgreSQL drops the lock when the
   holder's session ends, so a killed build never leaves a stale lock;
2. yields the build: the caller registers the lake views in the catalog and runs `dbt build` against it (each
   model's transaction commits on its own; readers do not see them);
3. on success, publishes: one transaction inserts the build's row into `acorn_meta.builds` (its run and its
   record: fingerprint, dbt test results, incremental definitions) with the commit message
   `acorn build published`. Readers attached from then on see this snapshot. A failed build publishes nothing:
   readers keep the previous build, and the next build (models replace or delete+insert their rows) converges.

The build's own commits retry when a concurrent writer's commit conflicts (bounded, logged: `retry_on_conflict`);
builds never conflict with each other, the lock serialises them.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from lake.store import LakeStore
from orchestration.outcomes import WarehouseLocked
from orchestration.warehouse.lake_views import create_lake_views, create_store_lake_views, lake_datasets
from orchestration.warehouse.last_build import LastBuild, RecordedCheck
from orchestration.warehouse_catalog import (
    BUILDS_TABLE,
    CONNECT_TIMEOUT_SECONDS,
    PUBLISHED_MESSAGE,
    DuckLakeWarehouse,
    WarehouseCatalogUnavailable,
    ducklake_connection,
    retry_on_conflict,
)

# The advisory lock's key: one per catalog database (the lock is per database), the same in every ACORN.
LOCK_KEY = zlib.crc32(b"acorn warehouse build")


class DuckLakeBuild:
    """A build in progress in the catalog; the caller sets `record` once dbt has succeeded."""

    def __init__(self, warehouse: DuckLakeWarehouse) -> None:
        self.warehouse = warehouse
        self.record: LastBuild | None = None


@contextlib.contextmanager
def catalog_writer_lock(warehouse: DuckLakeWarehouse, *, run_id: str | None = None) -> Iterator[None]:
    """Hold the catalog's writer lock (a PostgreSQL advisory lock), or raise `WarehouseLocked` naming its holder."""
    import psycopg2

    started = datetime.now(UTC).isoformat(timespec="seconds")
    # PostgreSQL shows a session's application_name to everyone refused the lock (63 characters at most).
    name = f"acorn build pid {os.getpid()} on {socket.gethostname()} since {started}"[:63]
    try:
        connection = psycopg2.connect(
            warehouse.catalog_url, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name=name
        )
    except psycopg2.Error as error:
        raise WarehouseCatalogUnavailable(
            f"the warehouse's {warehouse.shown} cannot be used: {warehouse.scrubbed(str(error)).strip()}. Fix: "
            "start PostgreSQL there, create the database, or correct the URL's user and password."
        ) from None
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("select pg_try_advisory_lock(%s)", [LOCK_KEY])
            [(taken,)] = cursor.fetchall()
            if not taken:
                cursor.execute(
                    "select a.application_name, a.client_addr, a.backend_start from pg_locks l "
                    "join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and l.granted "
                    "and l.objid = %s and l.database = (select oid from pg_database where datname = "
                    "current_database())",
                    [LOCK_KEY],
                )
                holders = cursor.fetchall()
                holder = (
                    f"`{holders[0][0]}` (client {holders[0][1] or 'local'}, connected {holders[0][2]})"
                    if holders
                    else "a session that has just ended"
                )
                raise WarehouseLocked(
                    f"Another build is writing the warehouse ({warehouse.shown}): {holder}. Wait for it to "
                    "finish, or stop it, then build again."
                )
        yield
    finally:
        connection.close()  # ends the session: PostgreSQL releases the lock


@contextlib.contextmanager
def build_and_publish_ducklake(
    warehouse: DuckLakeWarehouse, *, run_id: str, schemas: Iterable[str], log: Callable[[str], None]
) -> Iterator[DuckLakeBuild]:
    """Yield a build in the catalog under its writer lock; publish it (atomically) when the block ends normally.

    `schemas`: every schema dbt writes, created before dbt runs. dbt creates each in the first model's
    transaction that needs it, on its own thread; DuckLake 1.5.5 committed two schemas created concurrently
    that way under one id, and a seed built in `reference` was then found in `intermediate`."""
    with catalog_writer_lock(warehouse, run_id=run_id):
        retry_on_conflict(
            lambda: _create_catalog(warehouse, sorted(set(schemas))),
            what="creating the warehouse's catalog",
            log=log,
        )
        build = DuckLakeBuild(warehouse)
        yield build
        retry_on_conflict(
            lambda: _publish(warehouse, run_id, build.record), what="publishing the warehouse", log=log
        )


def register_lake_views_in_catalog(
    warehouse: DuckLakeWarehouse, lake: Path, log: Callable[[str], None]
) -> list[str]:
    """The `lake.<dataset>` views, created in the catalog in one commit.

    With the lake on the object store (an s3:// ACORN_OBJECT_STORE_URL, lake/store.py) they read its current
    files there, so any host can build and any reader can query them; what this host's lake holds and the store
    lacks (a lake landed before the store was configured) is copied first. Otherwise they name the lake's
    Parquet files on this host's disk (the build reads them; readers elsewhere query the marts)."""
    store = LakeStore.from_env()
    if store is not None:
        copied = store.copy_missing(lake, lake_datasets())
        if copied:
            log(f"copied {copied} lake partitions this host holds and the object store lacked to {store.url}")

    def attempt() -> list[str]:
        with ducklake_connection(warehouse) as connection:
            connection.execute("begin")
            if store is not None:
                views = create_store_lake_views(connection, store)
            else:
                views = create_lake_views(connection, lake)
            connection.execute("commit")
            return views

    return retry_on_conflict(attempt, what="creating the lake views", log=log)


def _create_catalog(warehouse: DuckLakeWarehouse, schemas: list[str]) -> None:
    """The catalog (DuckLake creates its tables in PostgreSQL on the first read-write attach, with the data path),
    `schemas` and the table of published builds, in one transaction."""
    with ducklake_connection(warehouse) as connection:
        connection.execute("begin")
        for schema in ["acorn_meta", *schemas]:
            connection.execute(f'create schema if not exists "{schema}"')
        connection.execute(
            f"create table if not exists {BUILDS_TABLE} (run_id varchar, published_at timestamp with time zone, "
            "record varchar)"
        )
        connection.execute("commit")


def _publish(warehouse: DuckLakeWarehouse, run_id: str, record: LastBuild | None) -> None:
    with ducklake_connection(warehouse) as connection:
        connection.execute("begin")
        connection.execute(
            f"insert into {BUILDS_TABLE} values (?, ?, ?)",
            [run_id, datetime.now(UTC), json.dumps(asdict(record)) if record else None],
        )
        connection.execute("call warehouse.set_commit_message('acorn', ?)", [PUBLISHED_MESSAGE])
        connection.execute("commit")


def last_published_record(warehouse: DuckLakeWarehouse) -> LastBuild | None:
    """The record of the last published build (fingerprint, test results, incremental definitions), if any."""
    with ducklake_connection(warehouse, read_only=True) as connection:
        try:
            rows = connection.execute(
                f"select record from {BUILDS_TABLE} where record is not null order by published_at desc limit 1"
            ).fetchall()
        except duckdb.CatalogException:
            return None
    if not rows:
        return None
    document: dict[str, Any] = json.loads(rows[0][0])
    document["checks"] = [RecordedCheck(**check) for check in document.get("checks", [])]
    return LastBuild(**document)
