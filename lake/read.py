"""Every read of lake Parquet: the published files, one SELECT over them, a DuckDB relation, an Arrow table.

All readers (the warehouse's `lake.*` views, the checks, what counts as landed, the settlement transform) use
`scan_sql`, so they read with the same `read_parquet` options: columns matched by name across files
(`union_by_name`: an older file without a newer column reads it as NULL), no hive columns from the folder names
(the partition values are columns of the file already), and settlement lines with their positional line
numbers filled in.

Where the files are (a `LakeSource`): the local lake's folder (embedded, or a folder store: `published_files`),
or, in scale-out with the lake on an s3:// object store, a `StoreFiles`: each dataset's current files as the
store's partition pointers named them when it was made (lake/store.py: content-addressed keys, never rewritten,
so the list reads one version of every partition to the end), read by DuckDB's httpfs through an S3 secret
created inside the reading process. The lake's checks read the store that way and download nothing
(orchestration/lake_refresh.py `lake_files`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lake.layout import published_files, published_pattern
from lake.memory import bounded_connection

__all__ = [
    "FIRST_DATA_LINE",
    "POSITIONAL_NUMBERING",
    "POSITIONAL_NUMBERING_KEY",
    "DatasetStats",
    "LakeSource",
    "StoreFiles",
    "arrow_table",
    "connect",
    "dataset_stats",
    "file_list",
    "published_files",
    "published_pattern",
    "register",
    "relation",
    "scan_sql",
    "source_files",
    "url_list",
]

SETTLEMENT_LINES = "settlement_lines"

# Line numbers of a V2 settlement file without blank lines are implied by file order (the header is line 1,
# the summary row line 2, so the n-th row written, counting from 0, is line n + 3 and settlement line n + 1).
# The import then stores them as NULL and readers fill them in from the Parquet row position: numbering
# 5 million rows while writing costs as much as the whole typed conversion, since it forces DuckDB onto one
# thread. Rows whose numbers are not positional (the older layout's unpivoted rows, files with blank lines)
# store them.
FIRST_DATA_LINE = 3
POSITIONAL_NUMBERING_KEY = "acorn.line_numbers"
POSITIONAL_NUMBERING = "positional: line_number = row + 1, source_line = row + 3 (row counted from 0)"


def scan_sql(dataset: str, files: str, *, provenance: bool = False) -> str:
    """The SELECT every ACORN reader uses over a lake dataset's Parquet `files` (a DuckDB list, pattern or `?`).

    `provenance`: also return each row's `filename` and `file_row_number` (which file, which row), for a check
    that must say where a row came from, and for settlement lines `line_number_stored` (whether the file holds
    the number or it is the row's position)."""
    extra = ", filename = true" if provenance else ""
    if dataset != SETTLEMENT_LINES:
        return f"select * from read_parquet({files}, union_by_name = true, hive_partitioning = false{extra})"
    kept = ", line_number is not null as line_number_stored" if provenance else ""
    return (
        f"select *{'' if provenance else ' exclude (file_row_number)'} replace ("
        "coalesce(line_number, file_row_number + 1) as line_number, "
        f"coalesce(source_line, file_row_number + {FIRST_DATA_LINE}) as source_line){kept} "
        "from read_parquet("
        f"{files}, union_by_name = true, hive_partitioning = false, file_row_number = true{extra})"
    )


def file_list(files: Sequence[Path | str]) -> str:
    """`files` (local paths, or s3:// URLs as text) as a DuckDB list literal, for SQL that cannot take a
    parameter (a view, a relation)."""
    return "[" + ", ".join(_literal(str(path)) for path in files) + "]"


@dataclass(frozen=True)
class StoreFiles:
    """The lake as the object store's pointers named it at one moment (scale-out): each dataset's current files,
    s3:// URLs (and the local paths of partitions only this host holds, landed before the store was set), with
    what a DuckDB connection needs to read them: `config` (the extension folder of the httpfs wheel, automatic
    installs off) and `setup`, the CREATE SECRET statements (secrets: never shown, not in its repr)."""

    files: Mapping[str, tuple[str, ...]]
    config: Mapping[str, str | bool] = field(default_factory=dict)
    setup: tuple[str, ...] = field(default=(), repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def scrubbed(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


# Where a reader finds the lake's files: the local lake's folder, or the store's list.
LakeSource = Path | StoreFiles


def source_files(source: LakeSource, dataset: str) -> list[str]:
    """A dataset's current files, sorted: local paths (as text) or s3:// URLs."""
    if isinstance(source, StoreFiles):
        return sorted(source.files.get(dataset, ()))
    return [str(path) for path in published_files(source, dataset)]


@contextlib.contextmanager
def connect(source: LakeSource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A bounded DuckDB connection (lake/memory.py) that can read `source`'s files: for a `StoreFiles`, with
    httpfs loaded from the install and the store's secret created in this process (an error is scrubbed of it)."""
    if not isinstance(source, StoreFiles):
        with bounded_connection() as connection:
            yield connection
        return
    with bounded_connection(config=source.config) as connection:
        try:
            for statement in source.setup:
                connection.execute(statement)
        except duckdb.Error as error:
            raise RuntimeError(
                f"could not set up the object store's secret for reading the lake: {source.scrubbed(str(error))}"
            ) from None
        yield connection


def url_list(urls: list[str]) -> str:
    """URLs (s3://...) as a DuckDB list literal, like `file_list`."""
    return "[" + ", ".join(_literal(url) for url in urls) + "]"


def relation(
    connection: duckdb.DuckDBPyConnection,
    lake: LakeSource,
    dataset: str,
    *,
    files: Sequence[Path | str] | None = None,
    provenance: bool = False,
) -> duckdb.DuckDBPyRelation | None:
    """A lazy DuckDB relation over a dataset's published files (or the given subset of them); None when there
    are none. Nothing is read until the relation is aggregated or fetched, so a check can sum millions of rows
    in DuckDB and bring back one row per settlement. (A `StoreFiles` source needs a connection from `connect`.)"""
    files = source_files(lake, dataset) if files is None else files
    if not files:
        return None
    return connection.sql(scan_sql(dataset, file_list(files), provenance=provenance))


def register(
    connection: duckdb.DuckDBPyConnection,
    lake: LakeSource,
    dataset: str,
    view: str,
    *,
    files: Sequence[Path | str] | None = None,
) -> bool:
    """Create (or replace) the temporary view `view` over a dataset's published files (or the given subset), for
    SQL that names it; False (and no view) when there are none. (A `StoreFiles` source needs a connection from
    `connect`.)"""
    files = source_files(lake, dataset) if files is None else files
    if not files:
        return False
    connection.execute(f"create or replace temp view {view} as {scan_sql(dataset, file_list(files))}")
    return True


def arrow_table(
    lake: LakeSource, dataset: str, *, files: Sequence[Path | str] | None = None
) -> pa.Table | None:
    """A dataset's published files (or the given subset) as one Arrow table, DECIMAL kept exact; None when there
    are none. For small datasets (one row per settlement, per group): large ones are aggregated in DuckDB."""
    with connect(lake) as connection:
        found = relation(connection, lake, dataset, files=files)
        return None if found is None else found.to_arrow_table()


@dataclass(frozen=True)
class DatasetStats:
    """What a dataset's published files hold, read from their Parquet footers only (no data page)."""

    rows: int
    files: int
    schema: pa.Schema | None  # the newest file's (None when nothing is published)


def dataset_stats(lake: Path, dataset: str) -> DatasetStats:
    """Rows and schema of a dataset's published files, for a materialization's row count and column schema.
    Footers only: a few kilobytes a file, whatever the history holds."""
    files = published_files(lake, dataset)
    rows = sum(pq.ParquetFile(path).metadata.num_rows for path in files)
    newest = max(files, key=lambda path: path.stat().st_mtime_ns) if files else None
    return DatasetStats(
        rows=rows, files=len(files), schema=None if newest is None else pq.read_schema(newest)
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
