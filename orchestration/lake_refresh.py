"""Step code reads the object store's lake, not a stale local copy (scale-out; lake/refresh.py).

With an s3:// `ACORN_OBJECT_STORE_URL` a worker's data dir is a private cache: before a step lands an account or
reads its partitions (orchestration/resources.py `SpApiResource.client`, under the account's lock, so no other
host lands the account meanwhile), the account's partitions of every dataset (`account_id=<id>` and
`account_id=<id>,...` folders) and every settlement's two partitions (keyed by settlement id, read by the
lookups of an account's settlements) are brought to the store's current version; the lake's checks refresh
the whole local lake first (`refresh_lake`). Without an s3:// store both are one look at the environment.
"""

from __future__ import annotations

from pathlib import Path

from lake.partitions import partition_name
from lake.refresh import Refreshed, refresh
from lake.store import LakeStore
from transforms.settlement.lake import LINES, SETTLEMENTS, refresh_settlements


def refresh_account(lake: Path, account_id: str) -> Refreshed | None:
    """Bring the account's local partitions and every settlement's to the store's current version; None
    without an s3:// store. Call it holding the account's SP-API lock."""
    store = LakeStore.from_env()
    if store is None:
        return None
    prefix = partition_name(account_id=account_id)

    def ours(dataset: str, partition: str) -> bool:
        return dataset not in (LINES, SETTLEMENTS) and (
            partition == prefix or partition.startswith(prefix + ",")
        )

    counts = refresh(store, lake, ours)
    refresh_settlements(lake)
    return counts


def refresh_lake(lake: Path) -> Refreshed | None:
    """Bring the whole local lake to the store's current version (the checks, reading every account); None
    without an s3:// store."""
    store = LakeStore.from_env()
    if store is None:
        return None
    counts = refresh(store, lake, lambda dataset, partition: dataset not in (LINES, SETTLEMENTS))
    refresh_settlements(lake)
    return counts
