"""Step code reads the object store's lake, not a stale local copy (scale-out; lake/refresh.py).

With an s3:// `ACORN_OBJECT_STORE_URL` a worker's data dir is a private cache: before a step lands an account or
reads its partitions (orchestration/resources.py `SpApiResource.client`, under the account's lock, so no other
host lands the account meanwhile), the account's partitions of every dataset (`account_id=<id>` and
`account_id=<id>,...` folders) and every settlement's two partitions (keyed by settlement id, read by the
lookups of an account's settlements) are brought to the store's current version, from one listing of the
store's pointers. The lake's checks download nothing: they read the store's current files in place
(`lake_files`, a `StoreFiles` for lake/read.py). The silence alerts still refresh the whole local lake
(`refresh_lake`). Without an s3:// store each is one look at the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lake.partitions import partition_name
from lake.read import LakeSource, StoreFiles
from lake.refresh import MARKER, PART_FILE, Refreshed, current_pointers, sync
from lake.store import LakeStore
from transforms.settlement.lake import LINES, SETTLEMENTS, refresh_settlements

# The settlements' two datasets, keyed by settlement, not by account: refreshed by their own rules.
SETTLEMENT_DATASETS = (LINES, SETTLEMENTS)


def refresh_account(lake: Path, account_id: str) -> Refreshed | None:
    """Bring the account's local partitions and every settlement's to the store's current version; None
    without an s3:// store. Call it holding the account's SP-API lock. One listing of the store serves both."""
    store = LakeStore.from_env()
    if store is None:
        return None
    prefix = partition_name(account_id=account_id)

    def ours(dataset: str, partition: str) -> bool:
        return dataset in SETTLEMENT_DATASETS or partition == prefix or partition.startswith(prefix + ",")

    return _bring_to_store(store, lake, current_pointers(store, lake, ours))


def refresh_lake(lake: Path) -> Refreshed | None:
    """Bring the whole local lake to the store's current version (the silence alerts, reading every account);
    None without an s3:// store."""
    store = LakeStore.from_env()
    if store is None:
        return None
    return _bring_to_store(store, lake, current_pointers(store, lake, lambda dataset, partition: True))


def _bring_to_store(
    store: LakeStore, lake: Path, pointers: dict[tuple[str, str], dict[str, Any] | None]
) -> Refreshed:
    """Bring the listed partitions to the store's version: the settlements' through their own refresh (under the
    settlements' locks when something changes), every other dataset's directly."""
    settlements = {item: found for item, found in pointers.items() if item[0] in SETTLEMENT_DATASETS}
    counts = sync(store, lake, {item: found for item, found in pointers.items() if item not in settlements})
    refresh_settlements(lake, settlements)
    return counts


def lake_files(lake: Path) -> LakeSource:
    """What the lake's checks read: embedded (or a folder store), the local `lake` itself; with an s3:// store,
    the store's current files, read in place (nothing downloaded, no lock taken): one listing, then the
    pointers. A partition only this host holds and never exchanged with the store (landed before the store was
    set; no `.store-sha256` marker) is read from the local lake, as a refresh would have kept it, until the
    next build's `copy_missing` publishes it."""
    store = LakeStore.from_env()
    if store is None:
        return lake
    from orchestration.warehouse_catalog import connection_config

    files: dict[str, list[str]] = {}
    for (dataset, partition), pointer in current_pointers(store, lake, lambda d, p: True).items():
        folder = Path(lake) / dataset / partition
        if pointer is not None:
            files.setdefault(dataset, []).append(store.url_of(dataset, partition, pointer["file"]))
        elif not (folder / MARKER).exists() and (folder / PART_FILE).exists():
            files.setdefault(dataset, []).append(str(folder / PART_FILE))
    secret = store.duckdb_secret_sql()
    return StoreFiles(
        files={dataset: tuple(sorted(names)) for dataset, names in files.items()},
        config=connection_config(),
        setup=() if secret is None else (secret,),
        secrets=tuple(store.settings.secrets() if store.settings is not None else ()),
    )
