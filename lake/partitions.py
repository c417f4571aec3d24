"""The one small helper the finance and vendor domains write the lake through.

A lake dataset is `data/lake/<dataset>/<partition>/part-0.parquet` (one folder level, which is what the
warehouse's lake views read). A partition is replaced atomically (written in `<data>/staging/`, where no
reader looks, then `os.replace`d into place: lake/layout.py) and only when its bytes change, so a
re-run that finds nothing new leaves every file, and its mtime, untouched. In scale-out (an s3://
`ACORN_OBJECT_STORE_URL`) each partition is also published to the object store, replaced atomically for its
readers there too (lake/store.py). Rows are sorted by the dataset's key
before writing and the Parquet writer settings are fixed, so equal rows always give equal bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lake.layout import data_dir_of, flush_to_disk, published_files, publishing, staging_file, writing
from lake.refresh import mark_in_store
from lake.store import LakeStore
from transforms import crash_points

PART_FILE = "part-0.parquet"
# Characters allowed in a partition folder name as they are; anything else is percent-encoded, so an id with a
# slash or a space can never escape its dataset folder.
_SAFE = re.compile(r"[A-Za-z0-9._=-]")


def partition_name(**values: str) -> str:
    """A partition folder name such as `account_id=demo-na,group=ABC`: readable, safe, and sortable."""
    parts = []
    for key, value in values.items():
        encoded = "".join(ch if _SAFE.fullmatch(ch) else f"%{ord(ch):02X}" for ch in str(value))
        parts.append(f"{key}={encoded}")
    return ",".join(parts)


@dataclass(frozen=True)
class PartitionWrite:
    dataset: str
    partition: str
    rows: int
    changed: bool
    path: Path


def sort_table(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Rows in a stable, content-defined order (nulls first), whatever order the pages arrived in."""
    if table.num_rows == 0 or not keys:
        return table
    return table.sort_by([(key, "ascending", "at_start") for key in keys])


def parquet_bytes(table: pa.Table) -> bytes:
    """The Parquet encoding of `table` with fixed settings (same rows and schema → same bytes)."""
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        row_group_size=1_000_000,
        store_schema=True,
    )
    return sink.getvalue()


def write_partition(
    lake: Path, dataset: str, partition: str, table: pa.Table, *, sort_keys: Sequence[str] = ()
) -> PartitionWrite:
    """Replace one partition with `table` (sorted by `sort_keys`); an empty table removes the partition."""
    folder = lake / dataset / partition
    target = folder / PART_FILE
    store = LakeStore.from_env()  # scale-out: the lake's copy on the object store (None in embedded mode)
    if table.num_rows == 0:
        existed = folder.exists()
        if existed:
            shutil.rmtree(folder)
        if store is not None:
            store.remove(dataset, partition)
        return PartitionWrite(dataset, partition, 0, existed, target)
    payload = parquet_bytes(sort_table(table, sort_keys))
    if target.exists() and target.read_bytes() == payload:
        if store is not None:  # unchanged here; the store catches up if a killed landing left it behind
            store.publish(dataset, partition, payload, table.num_rows)
            mark_in_store(folder, hashlib.sha256(payload).hexdigest())
        return PartitionWrite(dataset, partition, table.num_rows, False, target)
    folder.mkdir(parents=True, exist_ok=True)
    data_dir = data_dir_of(lake)
    with writing(data_dir):
        scratch = staging_file(data_dir, f"{dataset}-part")
        try:
            scratch.write_bytes(payload)
            # Its bytes on disk before its name is: a power cut never lands half a file.
            flush_to_disk(scratch)
            crash_points.pause_at("finances-landing", dataset=dataset, partition=partition)
            with publishing(data_dir):  # not while a build reads the lake
                os.replace(scratch, target)
            flush_to_disk(folder)
        except BaseException:
            scratch.unlink(missing_ok=True)
            raise
    if store is not None:
        # After the local publish: a landing killed in between leaves the store's previous version whole,
        # and its next landing of this partition (same bytes, "unchanged" here) publishes it.
        store.publish(dataset, partition, payload, table.num_rows)
        mark_in_store(folder, hashlib.sha256(payload).hexdigest())
    return PartitionWrite(dataset, partition, table.num_rows, True, target)


def read_partition(lake: Path, dataset: str, partition: str, schema: pa.Schema) -> pa.Table | None:
    """One partition as written (cast to `schema`), or None when it does not exist."""
    target = lake / dataset / partition / PART_FILE
    if not target.exists():
        return None
    return pq.read_table(target).cast(schema)


def partitions(lake: Path, dataset: str) -> list[str]:
    """The partition folder names a dataset has, sorted."""
    return sorted({path.parent.name for path in published_files(lake, dataset)})


def drop_unchanged(
    existing: pa.Table | None,
    new: pa.Table,
    keys: Sequence[str],
    *,
    ignore: Sequence[str] = ("source_sha256",),
) -> pa.Table:
    """`new` without the entities (rows grouped by `keys`) the lake already holds exactly as they are.

    An entity re-read on a page that changed around it (other rows came or went) differs only in the page it
    was read from; keeping the stored rows then leaves the partition's bytes unchanged on a re-run.
    """
    if existing is None or existing.num_rows == 0 or new.num_rows == 0:
        return new
    compared = [name for name in new.schema.names if name not in ignore]

    def signatures(table: pa.Table) -> dict[tuple[object, ...], list[str]]:
        found: dict[tuple[object, ...], list[str]] = {}
        for row in table.select(compared).to_pylist():
            found.setdefault(tuple(row[key] for key in keys), []).append(repr(row))
        return {key: sorted(rows) for key, rows in found.items()}

    before = signatures(existing.cast(new.schema))
    after = signatures(new)
    unchanged = {key for key, rows in after.items() if before.get(key) == rows}
    if not unchanged:
        return new
    mask = [tuple(row[key] for key in keys) not in unchanged for row in new.select(list(keys)).to_pylist()]
    return new.filter(pa.array(mask, type=pa.bool_()))
