"""Upkeep of the lake's copy on the object store (scale-out; lake/store.py): `verify` it, and `prune` the files no
reader needs any more. `acorn lake verify` and `acorn lake prune` (acorn_cli/lake.py) run them.

**verify**: every partition's pointer names a file that is on the store, of the pointer's size, whose bytes hash
to the pointer's sha256 (each downloaded and hashed, as the raw archive's `ObjectStoreCopy.verify` does).

**prune**: a partition's superseded files (those its pointer no longer names, and the files of a removed
partition) stay on the store after a landing replaces them, because a reader may still hold their keys: a build
in progress reads the files listed at its start, the checks the files listed at theirs, and the last published
build's `lake.*` views (and the dbt staging views over them) name the files current when that build started. A
file is deleted only when all of this holds:

- no current pointer names it (read again just before it is deleted);
- the warehouse's lake views do not name it (the caller passes those URLs: orchestration/lake_prune.py reads the
  DuckLake catalog's views at its last published build and at its newest commit);
- it has not been current for at least the retention (default `DEFAULT_RETENTION`, 7 days). When it stopped
  being current is not recorded per file, so the partition's pointer's own last-modified time stands for it: the
  file stopped being current at or before the pointer's last write. A removed partition (no pointer) uses its
  tombstone (`removed.json`, written by `LakeStore.remove` after it deletes the pointer); a removed partition
  without one (removed before tombstones, or a writer killed in between) gets one now and is pruned a retention
  later;
- the file itself is older than the retention: a file uploaded by a landing that has not written its pointer yet
  is young, so a concurrent publish never loses its file.

A publish that points again at an older file already on the store (the same bytes landed again) checks, after
writing its pointer, that the file is still there and uploads it again if a prune deleted it in between
(lake/store.py `publish`); with the pointer read again just before each delete, a prune and a publish cannot
leave a pointer naming a missing file unless the publish's pointer write and its check both fall between that
read and the delete (one request apart). `verify` would name such a pointer, and the next landing of the
partition with other bytes repairs it.

Temporary keys (`.tmp/`, uploads of writers killed mid-way) older than the retention are deleted too; the empty
files of datasets with nothing landed (`_empty/`) are kept (the views of such a dataset name them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lake.object_store import TMP_FOLDER
from lake.store import EMPTY, POINTER, TOMBSTONE, LakeStore

DEFAULT_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class StoredObject:
    key: str  # bucket/prefix/lake/...
    size: int
    modified: datetime  # UTC


@dataclass
class PrunePlan:
    """What a prune deletes and what it keeps, with why (one line per kept superseded file)."""

    delete: list[StoredObject] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    tombstones: list[str] = field(default_factory=list)  # removed partitions given a tombstone now
    current: int = 0  # files a pointer names
    deleted: list[str] = field(default_factory=list)  # what was deleted (apply)

    @property
    def bytes_to_delete(self) -> int:
        return sum(item.size for item in self.delete)


def listing(store: LakeStore) -> list[StoredObject]:
    """Every object under the lake's prefix (one listing), with its size and last-modified time."""
    from pyarrow import fs

    selector = fs.FileSelector(store.base, recursive=True, allow_not_found=True)
    infos = store._call(store.filesystem.get_file_info, selector)
    found = []
    for info in infos:
        if info.type != fs.FileType.File:
            continue
        modified = info.mtime
        if modified is None:
            modified = datetime.now(UTC)  # unknown: as young as can be, so never deleted for its age
        elif modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        found.append(StoredObject(info.path, int(info.size or 0), modified))
    return sorted(found, key=lambda item: item.key)


def verify(store: LakeStore, objects: list[StoredObject] | None = None) -> list[str]:
    """What is wrong with the lake's copy (empty when nothing): every pointer must parse and name a file that is
    there, of its size, hashing to its sha256 (downloaded and hashed)."""
    objects = listing(store) if objects is None else objects
    sizes = {item.key: item.size for item in objects}
    problems = []
    for key in store.pointer_keys():
        folder = key.rsplit("/", 1)[0]
        try:
            pointer = json.loads(store._read(key))
            sha256, size, name = str(pointer["sha256"]), int(pointer["size"]), str(pointer["file"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"pointer s3://{key} cannot be read (not the JSON a landing writes)")
            continue
        data_key = f"{folder}/{name}"
        if data_key not in sizes:
            problems.append(f"s3://{data_key} is missing (named by s3://{key})")
            continue
        if sizes[data_key] != size:
            problems.append(f"s3://{data_key} has {sizes[data_key]} bytes, its pointer says {size}")
            continue
        if store.sha256_of(data_key) != sha256:
            problems.append(f"s3://{data_key} does not hash to its pointer's sha256 {sha256}")
    return problems


def plan_prune(
    store: LakeStore,
    *,
    retention: timedelta = DEFAULT_RETENTION,
    keep_urls: Iterable[str] = (),
    now: datetime | None = None,
    objects: list[StoredObject] | None = None,
) -> PrunePlan:
    """What a prune would delete now (see the module); deletes nothing."""
    now = datetime.now(UTC) if now is None else now
    cutoff = now - retention
    objects = listing(store) if objects is None else objects
    keep = set(keep_urls)
    plan = PrunePlan()
    prefix = store.base + "/"
    folders: dict[str, dict[str, StoredObject]] = {}
    for item in objects:
        relative = item.key[len(prefix) :] if item.key.startswith(prefix) else ""
        parts = relative.split("/")
        if parts[0] == TMP_FOLDER:
            if item.modified < cutoff:
                plan.delete.append(item)
            continue
        if len(parts) != 3 or parts[0] == EMPTY or parts[0].startswith((".", "_")):
            continue  # the empty files, and anything ACORN did not write
        folders.setdefault(f"{parts[0]}/{parts[1]}", {})[parts[2]] = item
    for folder, files in sorted(folders.items()):
        pointer_object = files.get(POINTER)
        tombstone = files.get(TOMBSTONE)
        current = None
        if pointer_object is not None:
            current = _pointer(store, pointer_object.key)
            if current is None:  # a pointer that cannot be read: which file is current is unknown
                plan.kept += [(item.key, "its partition's pointer cannot be read") for item in files.values()]
                continue
            # When the partition's last change happened: its superseded files stopped being current by then.
            changed_at: datetime | None = pointer_object.modified
        else:
            changed_at = tombstone.modified if tombstone is not None else None
        superseded = [
            item
            for name, item in sorted(files.items())
            if name.endswith(".parquet") and (current is None or name != current.get("file"))
        ]
        plan.current += sum(1 for name in files if current is not None and name == current.get("file"))
        if superseded and pointer_object is None and tombstone is None:
            plan.tombstones.append(f"{prefix}{folder}")
        for item in superseded:
            why = _kept_because(item, changed_at, cutoff, keep)
            if why is None:
                plan.delete.append(item)
            else:
                plan.kept.append((item.key, why))
    return plan


def apply_prune(
    store: LakeStore, plan: PrunePlan, *, log: Callable[[str], None] = lambda _: None
) -> PrunePlan:
    """Delete what `plan` says, reading each partition's pointer again just before deleting one of its files
    (a publish meanwhile may name it again: then it is kept); write the tombstones it lists."""
    for folder in plan.tombstones:
        store._put(f"{folder}/{TOMBSTONE}", _tombstone())
    prefix = store.base + "/"
    for item in plan.delete:
        folder, name = item.key.rsplit("/", 1)
        if not item.key[len(prefix) :].startswith(TMP_FOLDER + "/"):
            pointer_key = f"{folder}/{POINTER}"
            pointer = _pointer(store, pointer_key)
            if pointer is None and store.size_of(pointer_key) is not None:
                plan.kept.append((item.key, "its partition's pointer cannot be read"))
                continue
            if pointer is not None and pointer.get("file") == name:
                plan.kept.append((item.key, "named by its pointer again (a publish meanwhile)"))
                continue
        store._call(store.filesystem.delete_file, item.key)
        plan.deleted.append(item.key)
        log(f"deleted s3://{item.key}")
    return plan


def _kept_because(
    item: StoredObject, changed_at: datetime | None, cutoff: datetime, keep: set[str]
) -> str | None:
    if f"s3://{item.key}" in keep:
        return "named by the warehouse's lake views (the last published build or the newest commit)"
    if item.modified >= cutoff:
        return "younger than the retention (a landing may be about to name it)"
    if changed_at is None:
        return "its partition was removed at an unknown time (a tombstone is written now; pruned a retention later)"
    if changed_at >= cutoff:
        return "superseded less than the retention ago (a build or a check may still read it)"
    return None


def _pointer(store: LakeStore, key: str) -> dict[str, Any] | None:
    """The pointer at `key`; None when there is none or it cannot be read (the callers tell which)."""
    if store.size_of(key) is None:
        return None
    try:
        found = json.loads(store._read(key))
    except ValueError:
        return None
    return found if isinstance(found, dict) and isinstance(found.get("file"), str) else None


def _tombstone() -> bytes:
    return json.dumps({"removed_seen_at": datetime.now(UTC).isoformat(timespec="seconds")}).encode()
