"""Bring a host's local lake to the object store's current version (scale-out; README "Scale-out").

With an s3:// `ACORN_OBJECT_STORE_URL` the store's partition pointers (lake/store.py) are the lake's truth and a
worker's local lake is a private cache of it: workers on different hosts share no disk. Before step code reads
a partition (a landing merging into it, a lookup such as the settlement ids an account knows, a check), the
partitions it reads are refreshed from the store:

- the store has a pointer whose sha256 differs from the local file's bytes (or there is no local file): the
  pointer's file is downloaded, its sha256 checked, staged under `<data>/staging/` and moved into place with one
  rename (under the data dir's writers and `publishing` locks, like a landing), so a local reader sees the old
  file or the new one;
- the store has no pointer and the local partition was once on the store (its `.store-sha256` marker, written
  whenever this host publishes a partition to the store or downloads one from it): another host removed it, so
  it is removed here. A local partition the store never had (a lake landed before the store was set) is kept:
  `LakeStore.copy_missing` publishes it at the next build.

Partitions the store already names byte for byte cost nothing but their pointer's read (one listing of the lake,
then the pointers read 8 at a time). The callers hold the lock that keeps the partitions still across hosts (the
account's SP-API lock for an account's partitions, orchestration/lake_refresh.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lake.layout import data_dir_of, flush_to_disk, publishing, staging_file, writing
from lake.store import MARKER, READ_THREADS, LakeStore

PART_FILE = "part-0.parquet"
__all__ = [
    "MARKER",
    "Refreshed",
    "current_pointers",
    "is_current",
    "mark_in_store",
    "partitions_to_change",
    "refresh",
    "refresh_partitions",
    "remember",
    "sync",
]


@dataclass(frozen=True)
class Refreshed:
    checked: int = 0
    downloaded: int = 0
    removed: int = 0


def mark_in_store(folder: Path, sha256: str) -> None:
    """Record that the partition in `folder` is (was) on the store with these bytes."""
    if folder.is_dir():
        (folder / MARKER).write_text(sha256, encoding="utf-8")


def refresh(
    store: LakeStore,
    lake: Path,
    wanted: Callable[[str, str], bool],
    *,
    datasets: set[str] | None = None,
    locked: bool = False,
) -> Refreshed:
    """Make every local partition `wanted(dataset, partition)` accepts (of `datasets`, None: all) what the store's
    pointer names (see the module); the counts. One listing of the store's lake, then the pointers. `locked`:
    the caller holds the lake's publishing lock already (a settlement writer's `lake_lock`; flock would wait for
    itself), and the data dir's writers lock."""
    return _sync(store, Path(lake), current_pointers(store, lake, wanted, datasets=datasets), locked)


def current_pointers(
    store: LakeStore, lake: Path, wanted: Callable[[str, str], bool], *, datasets: set[str] | None = None
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """The store's pointer of every partition `wanted` accepts (of `datasets`, None: all), and None for a local
    partition the store has no pointer for: one listing, then the pointers."""
    lake = Path(lake)
    stored: dict[tuple[str, str], str] = {}
    for key in store.pointer_keys():
        dataset, partition, _ = key[len(store.base) + 1 :].split("/")
        if (datasets is None or dataset in datasets) and wanted(dataset, partition):
            stored[(dataset, partition)] = key
    keys = sorted(stored)
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        read = list(pool.map(lambda item: json.loads(store._read(stored[item])), keys))
    pointers: dict[tuple[str, str], dict[str, Any] | None] = dict(zip(keys, read, strict=True))
    for folder in _local_partitions(lake, datasets):
        item = (folder.parent.name, folder.name)
        if item not in pointers and wanted(*item):
            pointers[item] = None
    return pointers


def is_current(lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None]) -> bool:
    """Whether the local lake already holds what `pointers` name (nothing to download or remove): read without
    any lock, so that a caller takes the writers' locks only when it has something to change."""
    return not partitions_to_change(lake, pointers)


def partitions_to_change(
    lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None]
) -> list[tuple[str, str]]:
    """The (dataset, partition) pairs the local lake must download or remove to hold what `pointers` name."""
    downloads, removals = _changes(Path(lake), pointers)
    return sorted(
        [(dataset, partition) for dataset, partition, _ in downloads]
        + [(folder.parent.name, folder.name) for folder in removals]
    )


def sync(
    store: LakeStore,
    lake: Path,
    pointers: dict[tuple[str, str], dict[str, Any] | None],
    *,
    locked: bool = False,
) -> Refreshed:
    """`refresh` from pointers the caller already read (`current_pointers`: one listing serving several
    refreshes)."""
    return _sync(store, Path(lake), pointers, locked)


def refresh_partitions(
    store: LakeStore, lake: Path, partitions: list[tuple[str, str]], *, locked: bool = False
) -> Refreshed:
    """`refresh` the named (dataset, partition) pairs only, reading their pointers without a listing."""
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        read = list(pool.map(lambda item: store.pointer(*item), partitions))
    return _sync(store, Path(lake), dict(zip(partitions, read, strict=True)), locked)


def _changes(
    lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None]
) -> tuple[list[tuple[str, str, dict[str, Any]]], list[Path]]:
    downloads = [
        (dataset, partition, pointer)
        for (dataset, partition), pointer in sorted(pointers.items())
        if pointer is not None and _local_sha(lake / dataset / partition / PART_FILE) != pointer["sha256"]
    ]
    removals = [
        lake / dataset / partition
        for (dataset, partition), pointer in sorted(pointers.items())
        if pointer is None and (lake / dataset / partition / MARKER).exists()
    ]
    return downloads, removals


def _sync(
    store: LakeStore, lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None], locked: bool
) -> Refreshed:
    downloads, removals = _changes(lake, pointers)
    checked = sum(1 for pointer in pointers.values() if pointer is not None)
    if downloads or removals:
        with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
            payloads = list(
                pool.map(
                    lambda item: store._read(store.data_key(item[0], item[1], item[2]["sha256"])), downloads
                )
            )
        _apply(store, lake, downloads, payloads, removals, locked)
    remember(lake, pointers)
    return Refreshed(checked=checked, downloaded=len(downloads), removed=len(removals))


def _apply(
    store: LakeStore,
    lake: Path,
    downloads: list[tuple[str, str, dict[str, Any]]],
    payloads: list[bytes],
    removals: list[Path],
    locked: bool,
) -> None:
    data_dir = data_dir_of(lake)
    # (`locked`: the caller holds the writers and publishing locks; flock would wait for itself)
    with contextlib.nullcontext() if locked else writing(data_dir):
        for (dataset, partition, pointer), payload in zip(downloads, payloads, strict=True):
            if hashlib.sha256(payload).hexdigest() != pointer["sha256"]:
                raise store.error(
                    f"the store's file for {dataset}/{partition} does not match its pointer's sha256 "
                    f"({store.data_key(dataset, partition, pointer['sha256'])})"
                )
            folder = lake / dataset / partition
            scratch = staging_file(data_dir, f"{dataset}-refresh")
            try:
                scratch.write_bytes(payload)
                flush_to_disk(scratch)
                new_folder = not folder.exists()
                folder.mkdir(parents=True, exist_ok=True)
                with contextlib.nullcontext() if locked else publishing(data_dir):  # no build here reads it
                    os.replace(scratch, folder / PART_FILE)
                flush_to_disk(folder, folder.parent if new_folder else None)
            except BaseException:
                scratch.unlink(missing_ok=True)
                raise
            mark_in_store(folder, pointer["sha256"])
        if removals:
            with contextlib.nullcontext() if locked else publishing(data_dir):
                for folder in removals:
                    shutil.rmtree(folder, ignore_errors=True)


def remember(lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None]) -> None:
    """Mark every local partition the store names as once exchanged with the store (its removal there is then
    followed here)."""
    for (dataset, partition), pointer in pointers.items():
        if pointer is not None:
            _remember(Path(lake) / dataset / partition, pointer["sha256"])


def _remember(folder: Path, sha256: str) -> None:
    marker = folder / MARKER
    if folder.is_dir() and (not marker.exists() or marker.read_text(encoding="utf-8") != sha256):
        mark_in_store(folder, sha256)


def _local_sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _local_partitions(lake: Path, datasets: set[str] | None) -> list[Path]:
    if not lake.is_dir():
        return []
    found = []
    for dataset in sorted(lake.iterdir()):
        if not dataset.is_dir() or dataset.name.startswith((".", "_")):
            continue
        if datasets is not None and dataset.name not in datasets:
            continue
        found += [
            folder
            for folder in sorted(dataset.iterdir())
            if folder.is_dir() and not folder.name.startswith((".", "_"))
        ]
    return found
