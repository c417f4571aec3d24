"""Writing settlements into the lake: one partition per settlement, replaced atomically, newer document wins.

A settlement is published as `settlement_lines/settlement_id=<id>/part-0.parquet` first and
`settlements/settlement_id=<id>/part-0.parquet` last: a settlements row is the commit marker (orchestration
treats a document as landed once its sha256 is there). Both files are written in a private staging folder under
`<data>/staging/` (lake/layout.py: no reader ever sees them there), then a publish journal
(`publish.json`, written atomically) records the renames and versions-log records to come, and `publish` carries
them out, each file moved into place with one rename. A process killed after the journal was written is
finished by `publish` at the next start-up (transforms/recovery.py); killed before, its staging folder is
removed and nothing of it was ever visible. `settlement_versions.jsonl` records every version that was
imported, superseded or set aside as older, so nothing is lost (the bytes stay in the raw archive).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lake.layout import flush_to_disk, new_staging_dir, publishing, writing
from lake.read import file_list, scan_sql
from lake.refresh import current_pointers, mark_in_store, partitions_to_change, refresh_partitions, remember
from lake.store import LakeStore
from transforms import crash_points
from transforms.jsonl import read_records
from transforms.settlement.schema import SETTLEMENT_LINES_SCHEMA

LINES = "settlement_lines"
SETTLEMENTS = "settlements"
VERSIONS_LOG = "settlement_versions.jsonl"
PART = "part-0.parquet"
JOURNAL = "publish.json"
STAGING_KIND = "settlement"
STAGED_LINES = "settlement_lines.parquet"
STAGED_ROW = "settlements.parquet"
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def usable_settlement_id(settlement_id: str) -> bool:
    return bool(_SAFE_ID.fullmatch(settlement_id))


def partition_dir(lake: Path, dataset: str, settlement_id: str) -> Path:
    return lake / dataset / f"settlement_id={settlement_id}"


def staging_dir(lake: Path) -> Path:
    """A private folder for one settlement's files, beside the lake (same file system, never read by readers);
    hold `lake.layout.writing` on the lake's data dir while it exists."""
    return new_staging_dir(lake.parent, STAGING_KIND)


@dataclass(frozen=True)
class CurrentVersion:
    raw_sha256: str
    document_created_at: datetime | None
    source_name: str | None
    account_id: str | None = None
    line_count: int = 0


@contextlib.contextmanager
def lake_lock(lake: Path) -> Iterator[None]:
    """One settlement writer at a time, and no build reading the lake meanwhile (lake.layout.publishing)."""
    lake.mkdir(parents=True, exist_ok=True)
    with open(lake / ".settlements.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            with publishing(lake.parent):
                yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def refresh_settlement(lake: Path, settlement_id: str, store: LakeStore | None = None) -> None:
    """Scale-out: bring one settlement's two local partitions to the store's current version (lake/refresh.py);
    call it under `lake_lock`. Nothing without an s3:// object store."""
    store = store or LakeStore.from_env()
    if store is not None:
        name = f"settlement_id={settlement_id}"
        refresh_partitions(store, lake, [(LINES, name), (SETTLEMENTS, name)], locked=True)


def refresh_settlements(
    lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None] | None = None
) -> None:
    """Scale-out: bring every settlement partition of the local lake to the store's current version, under
    `lake_lock` (one listing, then the pointers; `pointers`: the settlements' pointers from a listing the caller
    already made, lake/refresh.py `current_pointers`). Nothing without an s3:// object store."""
    store = LakeStore.from_env()
    if store is None:
        return
    # Looked at without a lock first: the settlements lock includes the publishing lock, which waits for every
    # build reading this host's lake, so a check refreshing an unchanged lake must not take it (it would wait
    # for a build in progress, and a build that waits for its own checks never ends).
    if pointers is None:
        pointers = current_pointers(
            store, lake, lambda dataset, partition: True, datasets={LINES, SETTLEMENTS}
        )
    changed = partitions_to_change(lake, pointers)
    remember(lake, {item: pointer for item, pointer in pointers.items() if item not in changed})
    if not changed:
        return
    # (the writers lock first, then the settlements lock, as an import takes them; flock would wait for
    # itself if the refresh took the publishing lock `lake_lock` holds: locked=True). Under the lock the
    # partitions to change are read again, without a listing: an import on this host may have published a newer
    # version since the pointers were read, which a stale pointer must not replace.
    with writing(lake.parent), lake_lock(lake):
        refresh_partitions(store, lake, changed, locked=True)


def current_version(lake: Path, settlement_id: str) -> CurrentVersion | None:
    part = partition_dir(lake, SETTLEMENTS, settlement_id) / PART
    if not part.exists():
        return None
    columns = ["raw_sha256", "document_created_at", "source_name", "account_id", "line_count"]
    row = pq.read_table(part, columns=columns).to_pylist()[0]
    return CurrentVersion(
        row["raw_sha256"],
        row["document_created_at"],
        row["source_name"],
        row["account_id"],
        int(row["line_count"] or 0),
    )


def known_versions(lake: Path) -> dict[str, dict]:
    """Every sha256 the versions log has seen, with its last record (a torn last line is skipped)."""
    seen: dict[str, dict] = {}
    for record in read_records(lake / VERSIONS_LOG):
        if isinstance(record.get("raw_sha256"), str):
            seen[record["raw_sha256"]] = record
    return seen


def log_version(lake: Path, record: dict) -> None:
    """Append one record to the versions log: one `write` of a whole line, after finishing a torn last line
    (left by a process killed mid-append; readers skip it) so this record starts on a line of its own."""
    line = json.dumps({**record, "logged_at": datetime.now(UTC).isoformat(timespec="seconds")}, default=str)
    with open(lake / VERSIONS_LOG, "a+b") as log:
        log.seek(0, os.SEEK_END)
        prefix = b""
        if log.tell() > 0:
            log.seek(-1, os.SEEK_END)
            if log.read(1) != b"\n":
                prefix = b"\n"
            log.seek(0, os.SEEK_END)
        payload = prefix + (line + "\n").encode("utf-8")
        if crash_points.armed("versions-log"):  # test hook: leave a torn record, then stop
            log.write(payload[: len(payload) // 2])
            log.flush()
            crash_points.pause_at("versions-log", settlement_id=record.get("settlement_id"))
            payload = b"\n" + payload  # (not killed after all: the torn half stays a line of its own)
        log.write(payload)
        log.flush()
        os.fsync(log.fileno())


def _logged_publish_records(lake: Path, publish_id: str) -> set[str]:
    """The events of the versions log that a publish (by its id) already appended."""
    log = lake / VERSIONS_LOG
    found: set[str] = set()
    if not log.exists():
        return found
    needle = publish_id.encode()
    with open(log, "rb") as lines:
        for raw in lines:
            if not raw.endswith(b"\n") or needle not in raw:
                continue
            with contextlib.suppress(ValueError):
                record = json.loads(raw)
                if record.get("publish_id") == publish_id:
                    found.add(str(record.get("event")))
    return found


def is_newer(candidate: datetime | None, current: CurrentVersion) -> bool:
    """Newer wins: by document creation time when both are known, else the later import (the candidate)."""
    if candidate is not None and current.document_created_at is not None:
        return candidate >= current.document_created_at
    return True


def rewrite_account(lake: Path, settlement_id: str, account_id: str, settlements_schema: pa.Schema) -> None:
    """Set `account_id` on every row of a landed settlement (its lines, then its settlements row, the commit
    marker), published like an import (staged, journaled, each file replaced by one rename); call it under
    `lake_lock` and `lake.layout.writing`. Everything else is kept as it was: row order (V2 line numbers are
    implied by it), the Parquet key-value metadata, every other value. The versions log gets a `reattributed`
    record."""
    current = current_version(lake, settlement_id)
    if current is None:
        return
    staging = staging_dir(lake)
    try:
        lines_part = partition_dir(lake, LINES, settlement_id) / PART
        if lines_part.exists():
            source = pq.ParquetFile(lines_part)
            schema = source.schema_arrow
            position = schema.get_field_index("account_id")
            with pq.ParquetWriter(staging / STAGED_LINES, schema, compression="zstd") as writer:
                for batch in source.iter_batches():
                    column = pa.array([account_id] * batch.num_rows, pa.string())
                    writer.write_batch(batch.set_column(position, schema.field(position), column))
        row = pq.read_table(partition_dir(lake, SETTLEMENTS, settlement_id) / PART).to_pylist()[0]
        write_settlement_row({**row, "account_id": account_id}, settlements_schema, staging / STAGED_ROW)
        record = {
            "settlement_id": settlement_id,
            "raw_sha256": current.raw_sha256,
            "source_name": current.source_name,
            "document_created_at": current.document_created_at,
            "line_count": current.line_count,
            "account_id": account_id,
            "previous_account_id": current.account_id,
            "event": "reattributed",
        }
        write_journal(staging, settlement_id, expected=[current.raw_sha256], log=[record])
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish(lake, staging)


def write_journal(staging: Path, settlement_id: str, *, expected: list[str | None], log: list[dict]) -> None:
    """Record, atomically, what `publish` is to do with a staging folder holding `settlement_lines.parquet`
    (optional) and `settlements.parquet`: move them into the settlement's partitions and append `log` to the
    versions log. `expected`: the raw_sha256 values the lake's settlements row may hold when it is carried out
    (None: no row); a journal found later with another one there (a newer version landed since) is dropped."""
    journal = {
        "publish_id": staging.name,
        "settlement_id": settlement_id,
        "expected": expected,
        "log": [{**record, "publish_id": staging.name} for record in log],
    }
    # The staged files reach the disk before the journal says they are complete: after a power cut, a journal
    # found at start-up never publishes a truncated file.
    flush_to_disk(*sorted(path for path in staging.iterdir() if path.is_file()), staging)
    scratch = staging / (JOURNAL + ".tmp")
    with open(scratch, "w", encoding="utf-8") as out:
        json.dump(journal, out, default=str)
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, staging / JOURNAL)
    flush_to_disk(staging)  # the journal's name, as well as its bytes


def read_journal(staging: Path) -> dict | None:
    """A staging folder's publish journal, or None when it has none (its files were never to be published)."""
    try:
        journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(journal, dict) or not usable_settlement_id(str(journal.get("settlement_id"))):
        return None
    return journal


def publish(lake: Path, staging: Path) -> bool:
    """Carry out a staging folder's publish journal, then remove the folder; call it under `lake_lock`.

    Idempotent, so an interrupted publish is finished by calling it again: a staged file already moved is not
    there any more, and a versions-log record already appended (by its `publish_id`) is not appended again.
    Returns False (and only removes the folder) when the journal is missing or stale."""
    journal = read_journal(staging)
    if journal is None:
        shutil.rmtree(staging, ignore_errors=True)
        return False
    settlement_id = journal["settlement_id"]
    store = LakeStore.from_env()
    if store is not None:
        # Scale-out: another host may have landed this settlement since this host's copy was refreshed; the
        # journal is judged against the store's current version.
        refresh_settlement(lake, settlement_id, store)
    current = current_version(lake, settlement_id)
    held = current.raw_sha256 if current is not None else None
    # The new version's row may already be in place (killed after its rename): then its sha is the last expected.
    new_sha = next((r.get("raw_sha256") for r in journal["log"] if r.get("event") == "imported"), None)
    if held not in journal.get("expected", []) and held != new_sha:
        shutil.rmtree(staging, ignore_errors=True)  # a newer version landed since: this one is history
        return False
    for staged_name, dataset in ((STAGED_LINES, LINES), (STAGED_ROW, SETTLEMENTS)):
        staged = staging / staged_name
        if not staged.exists():
            continue
        target = partition_dir(lake, dataset, settlement_id)
        new_partition = not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target / PART)
        # The rename reaches the disk before the staging folder (and its journal) is removed.
        flush_to_disk(target, target.parent if new_partition else None)
        if dataset == LINES:
            crash_points.pause_at("publish", settlement_id=settlement_id)
    if store is not None:
        # Scale-out: the store's partitions follow the lake's, lines first and the settlements row (the commit
        # marker) last. Still under the journal: a publish killed before this finishes is carried out again
        # (recovery), and mirroring is idempotent.
        for dataset in (LINES, SETTLEMENTS):
            folder = partition_dir(lake, dataset, settlement_id)
            store.mirror(lake, dataset, folder.name, PART)
            if (folder / PART).exists():
                mark_in_store(folder, hashlib.sha256((folder / PART).read_bytes()).hexdigest())
    done = _logged_publish_records(lake, journal["publish_id"])
    for record in journal["log"]:
        if record.get("event") not in done:
            log_version(lake, record)
    shutil.rmtree(staging, ignore_errors=True)
    return True


def write_settlement_row(row: dict, schema: pa.Schema, staged_file: Path) -> None:
    """One settlements row as Parquet with `schema`'s column types.

    DuckDB writes it from SQL literals: handing Python objects to pyarrow (or to DuckDB as parameters) imports
    pandas, which costs a quarter of a second on every import."""
    select = ", ".join(f"{_sql_value(row[field.name], field.type)} as {field.name}" for field in schema)
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute(f"copy (select {select}) to {_sql_text(str(staged_file))} (format parquet)")


def _sql_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_string(arrow_type):
        return "varchar"
    if pa.types.is_int64(arrow_type):
        return "bigint"
    if pa.types.is_decimal(arrow_type):
        return f"decimal({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_timestamp(arrow_type) and arrow_type.unit == "us":
        return "timestamptz" if arrow_type.tz else "timestamp"
    if pa.types.is_list(arrow_type):
        return f"{_sql_type(arrow_type.value_type)}[]"
    raise TypeError(f"no DuckDB type for {arrow_type}")


def _sql_value(value: object, arrow_type: pa.DataType) -> str:
    sql_type = _sql_type(arrow_type)
    if value is None:
        return f"cast(NULL as {sql_type})"
    if pa.types.is_list(arrow_type):
        assert isinstance(value, list | tuple)
        items = ", ".join(_sql_value(item, arrow_type.value_type) for item in value)
        return f"cast([{items}] as {sql_type})"
    if isinstance(value, datetime) and sql_type == "timestamptz":
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value} for a column of UTC instants")
        value = value.astimezone(UTC).isoformat()
    elif isinstance(value, datetime):
        value = value.isoformat()
    return f"cast({_sql_text(str(value))} as {sql_type})"


def _sql_text(text: str) -> str:
    # A NUL cannot appear inside a DuckDB string literal; it is spliced in with chr(0).
    return " || chr(0) || ".join("'" + part.replace("'", "''") + "'" for part in text.split("\x00"))


def read_settlement_lines(files: list[Path]) -> pa.Table:
    """settlement_lines Parquet files as one Arrow table (SETTLEMENT_LINES_SCHEMA), line numbers filled in."""
    if not files:
        return SETTLEMENT_LINES_SCHEMA.empty_table()
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        table = connection.sql(scan_sql(LINES, file_list(files))).to_arrow_table()
    return table.select(SETTLEMENT_LINES_SCHEMA.names).cast(SETTLEMENT_LINES_SCHEMA)
