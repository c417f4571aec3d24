"""Which SP-API report documents have already landed, so a daily run downloads only what is new.

A document counts as landed when its bytes are in the raw archive AND the lake holds a settlement parsed from
exactly those bytes (or the quarantine holds them). Archived-but-not-landed documents (a run that died between
the two steps) are downloaded again, so nothing is lost.

Scale-out (README "Scale-out", an s3:// ACORN_OBJECT_STORE_URL): the lake read here is the store's current
version (refreshed when the account's client opened), and a settlement another host landed is in it, but its
bytes are in that host's raw archive, not this one's. So for each of the account's settlements whose bytes this
host's manifest does not name, the store's manifest row that archived them (`raw/manifest/<sha>/archived.json`,
written before anything was parsed from them) says which document they came from: a document another host
landed is not downloaded again here. A store that does not answer leaves the local answer (the document is
downloaded once more and found a duplicate, as before: nothing lost, nothing counted twice).
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from lake.read import register
from transforms.archive import ArchiveCopyError, ObjectStoreCopy, RawArchive

logger = logging.getLogger(__name__)
# Manifest rows read from the store at once (small objects: the wait is the round trip).
STORE_READS = 8


def landed_documents(data_dir: Path, account_id: str | None = None) -> set[str]:
    """Archive `source` names (e.g. `spapi:demo-na:report/123`) whose bytes reached the lake or the quarantine.
    `account_id`: the account whose documents are asked about (with an s3:// store, only its settlements are
    looked up in the store's manifest; None: every account's)."""
    lake_rows = _lake_hashes(data_dir / "lake" / "settlements")
    settled = set(lake_rows) | _quarantined_hashes(data_dir / "quarantine")
    archive_root = data_dir / "raw"
    local_rows = list(RawArchive(archive_root, store=False).manifest()) if archive_root.exists() else []
    landed = {row["source"] for row in local_rows if row.get("sha256") in settled}
    elsewhere = {sha for sha, account in lake_rows.items() if account_id is None or account == account_id} - {
        row.get("sha256") for row in local_rows
    }
    return landed | _store_sources(elsewhere)


def _store_sources(hashes: set[str]) -> set[str]:
    """The sources the store's manifest names for `hashes` (their archiving rows); empty without an s3:// store."""
    if not hashes:
        return set()
    try:
        store = ObjectStoreCopy.from_env()
    except ArchiveCopyError as error:
        logger.warning("landed documents: the store's manifest is not read: %s", error)
        return set()
    if store is None:
        return set()

    def source_of(sha: str) -> str | None:
        key = store.row_key({"sha256": sha})
        if store.size_of(key) is None:
            return None  # landed here before the store was set, or its row not copied yet
        source = json.loads(store.read(key)).get("source")
        return source if isinstance(source, str) else None

    try:
        with ThreadPoolExecutor(max_workers=STORE_READS, thread_name_prefix="acorn-landed") as pool:
            sources = list(pool.map(source_of, sorted(hashes)))
    except ArchiveCopyError as error:
        logger.warning(
            "landed documents: the store's manifest could not be read (downloading again): %s", error
        )
        return set()
    return {source for source in sources if source}


def _lake_hashes(settlements_dir: Path) -> dict[str, str | None]:
    """The raw sha256 of every published settlement, with the account it is landed for."""
    # Published rows only: a row still in the staging area (a run killed before publishing it) is not landed.
    with duckdb.connect() as connection:
        if not register(connection, settlements_dir.parent, settlements_dir.name, "lake_rows"):
            return {}
        rows = connection.execute("select distinct raw_sha256, account_id from lake_rows").fetchall()
    return {row[0]: row[1] for row in rows if row[0]}


def _quarantined_hashes(quarantine_dir: Path) -> set[str]:
    hashes = set()
    for sidecar in quarantine_dir.glob("*.json"):
        try:
            record = json.loads(sidecar.read_text(encoding="utf-8"))
            sha = record.get("sha256")
        except (OSError, ValueError, AttributeError):
            continue
        if sha and not record.get("unexpected"):  # an unexpected failure is tried again
            hashes.add(sha)
    return hashes
