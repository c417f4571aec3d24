"""A private, read-only snapshot of the published warehouse for the dashboard.

The dashboard never opens `data/warehouse.duckdb` itself: DuckDB locks a database file per process, and a
connection kept open by a long-lived web app would hold that lock for as long as the app runs. Instead it copies
the published file (a build publishes by `os.replace`, so the file at that path is always a complete build, and a
copy made through an open file descriptor reads one inode from start to end even if a build replaces it
meanwhile) into a folder of its own and opens the copy read-only. A new build is picked up on the next page
load: the published file's identity (inode, size, modification time) changed, so a new snapshot is taken and the
old one removed. A build is never blocked, and never waits for the dashboard.

With the warehouse in a DuckLake catalog (scale-out, orchestration/warehouse_catalog.py) nothing is copied: the
snapshot is the catalog's last published build (its DuckLake snapshot), attached read-only at that version.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.warehouse.last_build import file_identity, record_path
from orchestration.warehouse_catalog import (
    DuckLakeWarehouse,
    NoPublishedBuild,
    configured_warehouse,
    open_catalog,
    published_build,
)


class NoWarehouse(RuntimeError):
    """No published warehouse yet (run `acorn demo`, `acorn run` or `acorn build` first)."""


@dataclass(frozen=True)
class Snapshot:
    """One copy of the published warehouse, and what the build that made it recorded."""

    path: Path
    identity: tuple[int, ...]
    built_at: datetime  # UTC: from the build's record, else the published file's modification time
    run_id: str | None  # the Dagster run that built it, when recorded
    catalog: DuckLakeWarehouse | None = None  # scale-out: `identity` is (the published DuckLake snapshot,)

    def connect(self) -> duckdb.DuckDBPyConnection:
        if self.catalog is not None:
            return open_catalog(self.catalog, snapshot=self.identity[0])
        return duckdb.connect(str(self.path), read_only=True)


def _built_at(warehouse: Path) -> tuple[datetime, str | None]:
    try:
        record = json.loads(record_path(warehouse).read_text(encoding="utf-8"))
        return datetime.fromisoformat(record["built_at"]).astimezone(UTC), record.get("run_id")
    except (OSError, ValueError, KeyError, TypeError):
        return datetime.fromtimestamp(warehouse.stat().st_mtime, UTC), None


class SnapshotStore:
    """Keeps the latest snapshot of `warehouse` in `folder` (a private temporary folder by default)."""

    def __init__(self, warehouse: Path, folder: Path | None = None) -> None:
        self.warehouse = warehouse
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="acorn-dashboard-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._count = 0

    def current(self) -> Snapshot:
        """The snapshot of the warehouse as published now: the same object while the file is unchanged."""
        catalog = configured_warehouse(self.warehouse)
        if catalog is not None:
            return self._published_in(catalog)
        with self._lock:
            if not self.warehouse.exists():
                raise NoWarehouse(
                    f"No warehouse at {self.warehouse} yet: run `acorn demo` (or `acorn run`, `acorn build`) first."
                )
            identity = tuple(file_identity(self.warehouse))
            if self._current is not None and self._current.identity == identity:
                return self._current
            self._count += 1
            target = self.folder / f"warehouse-{self._count}.duckdb"
            with self.warehouse.open("rb") as source, target.open("wb") as copy:
                # One open descriptor: the copy is of one published build even if a build replaces the file now.
                status = os.fstat(source.fileno())
                identity = (status.st_ino, status.st_size, status.st_mtime_ns)
                shutil.copyfileobj(source, copy, length=1 << 20)
            built_at, run_id = _built_at(self.warehouse)
            previous, self._current = self._current, Snapshot(target, identity, built_at, run_id)
            if previous is not None:
                # Sessions still reading it keep their open files (Linux keeps an unlinked inode readable).
                previous.path.unlink(missing_ok=True)
            return self._current

    def _published_in(self, catalog: DuckLakeWarehouse) -> Snapshot:
        try:
            build = published_build(catalog)
        except NoPublishedBuild as error:
            raise NoWarehouse(str(error)) from None
        with self._lock:
            if self._current is None or self._current.identity != (build.snapshot,):
                built_at = build.published_at.astimezone(UTC) if build.published_at else datetime.now(UTC)
                self._current = Snapshot(self.folder, (build.snapshot,), built_at, build.run_id, catalog)
            return self._current
