"""Dagster's SQLite event log with one SQLAlchemy engine per file, kept for the process's life.

Dagster's `SqliteEventLogStorage` creates a new SQLAlchemy engine for every connection it opens: for every event
it records (two or three: the run's file, and the index file for asset, check and run-status events) and for
every read. Creating an engine and its first connection (SQLAlchemy's dialect set-up, which queries the SQLite
version and settings) cost about 0.7 of the 1.6 CPU ms an event took to record (measured in `acorn build`).
`AcornSqliteEventLogStorage` keeps one engine per file instead. Everything else is Dagster's: each connection is
still opened, committed and closed per event (`NullPool`, as Dagster's), so nothing stays open on a run's file
beyond what `fast_run_history` keeps (acorn_cli/environment.py), another process sees each event at once, and
the files, tables and schema are those of the default storage (the UI, the daemon and an older `acorn` read
them as before).

`acorn` names this class in the `dagster.yaml` it writes for the embedded (SQLite) mode, with the default
storage's folder (`DAGSTER_HOME/history/runs`); the Postgres mode keeps dagster-postgres's storage.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster._check as check
from dagster._config.config_schema import UserConfigSchema
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# The folder of the default storage's files, under DAGSTER_HOME (dagster's `SqliteStorageConfig`).
RUNS_FOLDER = ("history", "runs")


class AcornSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one engine per SQLite file (see the module's doc). Configured with no
    `base_dir`, it uses the default storage's folder under DAGSTER_HOME."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        from dagster import Field, StringSource

        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> AcornSqliteEventLogStorage:
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], *RUNS_FOLDER)
        return cls(base_dir=base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The engine of `shard`'s file, created on first use (called under the storage's lock)."""
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As Dagster's `_connect`, with the engine kept rather than created and disposed each time.
        with self._db_lock:
            check.str_param(shard, "shard")
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def wipe(self) -> None:
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()
