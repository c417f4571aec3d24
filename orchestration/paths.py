"""Where ACORN keeps its data. Read at run time (never at import), so a test can point ACORN_DATA_DIR elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# The saved parses of builds, one per parse key (orchestration/warehouse/project.py keeps them).
DBT_SAVED_PARSES_DIR = DBT_PROJECT_DIR / "target" / "saved_parses"
# When set, the warehouse is a DuckLake catalog (orchestration/warehouse_catalog.py), not the data dir's file. Named
# here, where reading it loads nothing: `acorn build` asks before anything that starts a thread (DuckDB's import
# does) loads, so that it may still fork (orchestration/warehouse/dbt_prestart.py).
CATALOG_URL_VAR = "ACORN_WAREHOUSE_CATALOG_URL"


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log of a database file (`<file>.wal`)."""
    return database.with_name(database.name + ".wal")


def last_build_record_path(warehouse: Path) -> Path:
    """The record of the build that made `warehouse`: `warehouse.duckdb.last-build.json`, beside it."""
    return warehouse.with_name(warehouse.name + ".last-build.json")


def lake_written_since_last_build(warehouse: Path, lake: Path) -> Iterator[os.DirEntry[str]] | None:
    """Every entry under `lake` (files and folders, at any depth) modified since the published warehouse's build
    record, or None when there is no record. Light (no dbt, no Dagster): `acorn build` asks before it forks."""
    try:
        recorded = last_build_record_path(warehouse).stat().st_mtime_ns
    except OSError:
        return None
    return _entries_since(lake, recorded)


def _entries_since(lake: Path, recorded: int) -> Iterator[os.DirEntry[str]]:
    pending = [lake]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.stat(follow_symlinks=False).st_mtime_ns > recorded:
                        yield entry
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(Path(entry.path))
        except OSError:
            continue


@dataclass(frozen=True)
class DataPaths:
    """The layout of ACORN_DATA_DIR (default ./data): raw/, lake/, quarantine/, inbox/ and the warehouse."""

    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def downloads(self) -> Path:
        """Scratch space for documents being downloaded; nothing here is trusted until verified and archived."""
        return self.root / "tmp"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    def ensure(self) -> DataPaths:
        for folder in (self.raw, self.lake, self.quarantine, self.inbox, self.downloads):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def data_paths(data_dir: str | os.PathLike[str] | None = None) -> DataPaths:
    """The data dir given, else ACORN_DATA_DIR, else ./data (relative to the current directory)."""
    chosen = data_dir or os.environ.get("ACORN_DATA_DIR") or "data"
    return DataPaths(Path(chosen).expanduser().resolve())


def default_config_path() -> Path:
    """The accounts config: ACORN_CONFIG, else the demo config that points every account at the simulator."""
    chosen = os.environ.get("ACORN_CONFIG")
    return Path(chosen).expanduser().resolve() if chosen else REPO_ROOT / "config" / "demo.toml"
