"""The lake's Parquet on S3-compatible object storage (scale-out; README "Scale-out").

When `ACORN_OBJECT_STORE_URL` is an `s3://bucket/prefix` URL (lake/object_store.py: the endpoint and the `AWS_*`
credentials, never logged), every partition a landing writes is also published under `s3://bucket/prefix/lake/`,
and the DuckLake catalog's `lake.*` views read it there (orchestration/warehouse/lake_views.py), so the host that
builds the warehouse needs no copy of the lake on its disk. The local lake (lake/partitions.py,
transforms/settlement/lake.py) is unchanged and still what the landings merge into; unset, or a folder, nothing
here runs and embedded mode costs nothing more.

- `lake/<dataset>/<partition>/<sha256>.parquet`: a partition's file, named by its content. A new version of a
  partition is a new key; a key is never rewritten, so a reader holding a list of keys (a build in progress, a
  reader attached at the previous published build) reads the same bytes to the end.
- `lake/<dataset>/<partition>/current.json`: the partition's pointer, one small object naming its one current
  file (sha256, size, rows). It is written after the file is complete, and replaced by one server-side copy, so a
  partition changes for readers all at once: the old file or the new one, never half a partition and never both.
  A partition removed (an empty table) loses its pointer; its files stay for whoever still reads them.
- Every object is uploaded to `lake/.tmp/<uuid>` first, its size checked, then copied server-side to its key
  and the temporary key deleted: a key under a dataset is only ever a complete object (pyarrow completes an
  upload interrupted by an exception with the bytes sent so far: the temporary key takes that). A writer killed
  mid-upload leaves at most a `.tmp/` key (a bucket lifecycle rule expires them, docs/deployment.md).
- Re-running converges without duplicates: publishing bytes the pointer already names costs one metadata and
  one small read request and sends nothing; a file already under its key is not sent again. A landing killed
  between its local publish and the store's is caught up the next time it lands the same partition (the
  unchanged local bytes are still compared with the store's pointer), a settlement's by its publish journal
  (transforms/settlement/lake.py), and `copy_missing` publishes what a local lake holds that the store lacks
  (a lake landed before the store was set; the catalog build calls it).
- Superseded files are kept while a reader may still hold their keys; `acorn lake prune` deletes them after a
  retention (lake/store_upkeep.py, which also verifies the copy: `acorn lake verify`).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lake.layout import published_files
from lake.object_store import (
    OBJECT_STORE_URL_VAR,
    TMP_FOLDER,
    ObjectStoreArea,
    ObjectStoreSettings,
    duckdb_s3_secret_sql,
    object_store_settings,
    s3_base,
    s3_filesystem,
)

LAKE_FOLDER = "lake"
POINTER = "current.json"
# Written beside a removed partition's files when its pointer is deleted: when it stopped being current, for the
# prune (lake/store_upkeep.py). Ignored by every reader.
TOMBSTONE = "removed.json"
EMPTY = "_empty"
# Beside a local partition's file: the sha256 of the bytes its host last exchanged with the store for it
# (lake/refresh.py; hidden: no reader's glob matches it).
MARKER = ".store-sha256"
# Pointers read at once when listing the lake (each a small GET).
READ_THREADS = 8
# The DuckDB secret a reader of the lake's store files creates (temporary: its process only).
DUCKDB_SECRET = "acorn_lake_store"


class LakeStoreError(RuntimeError):
    """The object store refused a lake request; the message names the key, never a credential."""


class LakeStore(ObjectStoreArea):
    """The lake's copy on an S3-compatible store, under `s3://<bucket>/<prefix>/lake/` (see the module)."""

    error = LakeStoreError
    description = "the lake's copy"

    def __init__(
        self,
        filesystem: Any,
        base: str,
        *,
        secrets: Iterable[str] = (),
        settings: ObjectStoreSettings | None = None,
    ) -> None:
        super().__init__(filesystem, base, secrets=secrets)
        # The settings it was made from (endpoint, credentials: never shown), for a DuckDB reader's S3 secret.
        self.settings = settings

    def duckdb_secret_sql(self) -> str | None:
        """The CREATE SECRET statement a DuckDB connection runs to read this store's files (in that process's
        memory only; never log it)."""
        if self.settings is None:
            return None
        return duckdb_s3_secret_sql(self.settings.endpoint_url, self.settings.credentials, DUCKDB_SECRET)

    def url_of(self, dataset: str, partition: str, file_name: str) -> str:
        """The s3:// URL of a partition's file (what DuckDB's httpfs reads)."""
        return f"s3://{self.base}/{dataset}/{partition}/{file_name}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LakeStore | None:
        """The store `ACORN_OBJECT_STORE_URL` configures when it is an s3:// URL; None otherwise (embedded, or a
        folder: the local lake is then the only one). One instance per configuration in a process."""
        import os

        env = os.environ if env is None else env
        if not (env.get(OBJECT_STORE_URL_VAR) or "").strip().startswith("s3://"):
            return None  # embedded, or a folder: one look at the environment
        settings = object_store_settings(env)
        if not settings.is_s3:
            return None
        return _store_for(settings.url, settings.endpoint_url, tuple(sorted(settings.credentials.items())))

    # Keys.

    def data_key(self, dataset: str, partition: str, sha256: str) -> str:
        return f"{self.base}/{dataset}/{partition}/{sha256}.parquet"

    def pointer_key(self, dataset: str, partition: str) -> str:
        return f"{self.base}/{dataset}/{partition}/{POINTER}"

    # Writing.

    def publish(self, dataset: str, partition: str, payload: bytes, rows: int) -> bool:
        """Make `payload` (a Parquet file of `rows` rows) the partition's current file; whether anything was
        sent (False when the pointer already names these bytes)."""
        sha256 = hashlib.sha256(payload).hexdigest()
        current = self.pointer(dataset, partition)
        if current is not None and current.get("sha256") == sha256:
            return False
        key = self.data_key(dataset, partition, sha256)
        already_there = self.size_of(key) == len(payload)
        if not already_there:
            self._put(key, payload)
        pointer = {
            "dataset": dataset,
            "partition": partition,
            "file": f"{sha256}.parquet",
            "sha256": sha256,
            "size": len(payload),
            "rows": rows,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._put(self.pointer_key(dataset, partition), json.dumps(pointer, sort_keys=True).encode())
        if already_there and self.size_of(key) != len(payload):
            # An older file named again, which a prune (lake/store_upkeep.py) deleted between the look above and
            # the pointer: sent again, so the pointer never names a missing file.
            self._put(key, payload)
        return True

    def publish_file(self, dataset: str, partition: str, path: Path) -> bool:
        """`publish` the local Parquet file at `path`."""
        payload = path.read_bytes()
        rows = pq.ParquetFile(io.BytesIO(payload)).metadata.num_rows
        return self.publish(dataset, partition, payload, rows)

    def remove(self, dataset: str, partition: str) -> bool:
        """Remove the partition for readers (its pointer; its files stay, with a tombstone saying since when, for
        the prune); whether it had one."""
        key = self.pointer_key(dataset, partition)
        if self.size_of(key) is None:
            return False
        self._call(self.filesystem.delete_file, key)
        removed = {"dataset": dataset, "partition": partition, "removed_at": datetime.now(UTC).isoformat()}
        self._put(
            f"{self.base}/{dataset}/{partition}/{TOMBSTONE}", json.dumps(removed, sort_keys=True).encode()
        )
        return True

    def mirror(self, lake: Path, dataset: str, partition: str, file_name: str = "part-0.parquet") -> bool:
        """Make the store's partition what the local lake's is (published, or removed when it has no file)."""
        path = Path(lake) / dataset / partition / file_name
        if path.exists():
            return self.publish_file(dataset, partition, path)
        return self.remove(dataset, partition)

    def copy_missing(self, lake: Path, datasets: Iterable[str]) -> int:
        """Publish every partition of `datasets` the local `lake` holds and the store has no pointer for (and never
        had, as far as this host knows); how many. A partition the store has is never replaced from here (another
        host may have landed a newer version of it: the landings keep the store current)."""
        stored = self.partitions()
        copied = 0
        for dataset in datasets:
            for path in published_files(lake, dataset):
                partition = path.parent.name
                # A partition this host once exchanged with the store (its marker) and the store no longer has
                # was removed by a landing (maybe on another host): not brought back.
                if partition not in stored.get(dataset, set()) and not (path.parent / MARKER).exists():
                    self.publish_file(dataset, partition, path)
                    copied += 1
        return copied

    def empty_url(self, dataset: str, schema: pa.Schema) -> str:
        """The URL of an empty Parquet file with `schema` (for the view of a dataset nothing has landed in yet),
        uploaded once per schema."""
        sink = io.BytesIO()
        pq.write_table(schema.empty_table(), sink)
        payload = sink.getvalue()
        key = f"{self.base}/{EMPTY}/{dataset}-{hashlib.sha256(payload).hexdigest()[:16]}.parquet"
        if self.size_of(key) != len(payload):
            self._put(key, payload)
        return f"s3://{key}"

    # Reading.

    def pointer(self, dataset: str, partition: str) -> dict[str, Any] | None:
        key = self.pointer_key(dataset, partition)
        if self.size_of(key) is None:
            return None
        found: dict[str, Any] = json.loads(self._read(key))
        return found

    def pointer_keys(self) -> list[str]:
        """Every partition pointer's key (one listing of the lake), sorted."""
        from pyarrow import fs

        selector = fs.FileSelector(self.base, recursive=True, allow_not_found=True)
        infos = self._call(self.filesystem.get_file_info, selector)
        prefix = self.base + "/"
        keys = []
        for info in infos:
            if info.type != fs.FileType.File or not info.path.startswith(prefix):
                continue
            parts = info.path[len(prefix) :].split("/")
            if len(parts) == 3 and parts[2] == POINTER and not parts[0].startswith((".", "_")):
                keys.append(info.path)
        return sorted(keys)

    def partitions(self) -> dict[str, set[str]]:
        """The partitions the store has, by dataset (from the listing alone)."""
        found: dict[str, set[str]] = {}
        for key in self.pointer_keys():
            dataset, partition, _ = key[len(self.base) + 1 :].split("/")
            found.setdefault(dataset, set()).add(partition)
        return found

    def current_files(self) -> dict[str, list[str]]:
        """Each dataset's current files as s3:// URLs (one per partition, sorted): what readers read now. One
        listing, then the pointers read a few at a time."""
        keys = self.pointer_keys()
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            pointers = list(pool.map(lambda key: json.loads(self._read(key)), keys))
        files: dict[str, list[str]] = {}
        for key, pointer in zip(keys, pointers, strict=True):
            folder = key.rsplit("/", 1)[0]
            dataset = folder[len(self.base) + 1 :].split("/")[0]
            files.setdefault(dataset, []).append(f"s3://{folder}/{pointer['file']}")
        return {dataset: sorted(urls) for dataset, urls in files.items()}

    def object_count(self) -> int:
        """How many objects the lake holds on the store (files, pointers, empty files; not temporary keys)."""
        from pyarrow import fs

        selector = fs.FileSelector(self.base, recursive=True, allow_not_found=True)
        infos = self._call(self.filesystem.get_file_info, selector)
        return sum(
            1
            for info in infos
            if info.type == fs.FileType.File and not info.path.startswith(f"{self.base}/{TMP_FOLDER}/")
        )

    # Requests.

    def _read(self, key: str) -> bytes:
        with self._call(self.filesystem.open_input_stream, key) as stream:
            return bytes(stream.read())

    def _put(self, key: str, payload: bytes) -> None:
        self._publish(key, [payload], len(payload))


@functools.lru_cache(maxsize=4)
def _store_for(url: str, endpoint_url: str | None, credentials: tuple[tuple[str, str], ...]) -> LakeStore:
    settings = object_store_settings(
        {
            OBJECT_STORE_URL_VAR: url,
            **({"ACORN_S3_ENDPOINT_URL": endpoint_url} if endpoint_url else {}),
            **{_ENV_NAMES[key]: value for key, value in credentials},
        }
    )
    base = s3_base(settings)
    if not base:
        raise LakeStoreError(f"{OBJECT_STORE_URL_VAR} names no bucket: {url!r} (s3://bucket/prefix)")
    return LakeStore(
        s3_filesystem(settings), f"{base}/{LAKE_FOLDER}", secrets=settings.secrets(), settings=settings
    )


_ENV_NAMES = {
    "key_id": "AWS_ACCESS_KEY_ID",
    "secret": "AWS_SECRET_ACCESS_KEY",
    "session_token": "AWS_SESSION_TOKEN",
    "region": "AWS_REGION",
}
