"""Which SP-API report documents have already landed, so a daily run downloads only what is new.

A document counts as landed when its bytes are in the raw archive AND the lake holds a settlement parsed from
exactly those bytes (or the quarantine holds them). Archived-but-not-landed documents (a run that died between
the two steps) are downloaded again, so nothing is lost.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from lake.read import register
from transforms.archive import RawArchive


def landed_documents(data_dir: Path) -> set[str]:
    """Archive `source` names (e.g. `spapi:demo-na:report/123`) whose bytes reached the lake or the quarantine."""
    settled = _lake_hashes(data_dir / "lake" / "settlements") | _quarantined_hashes(data_dir / "quarantine")
    archive_root = data_dir / "raw"
    if not archive_root.exists():
        return set()
    return {row["source"] for row in RawArchive(archive_root).manifest() if row.get("sha256") in settled}


def _lake_hashes(settlements_dir: Path) -> set[str]:
    # Published rows only: a row still in the staging area (a run killed before publishing it) is not landed.
    with duckdb.connect() as connection:
        if not register(connection, settlements_dir.parent, settlements_dir.name, "lake_rows"):
            return set()
        rows = connection.execute("select distinct raw_sha256 from lake_rows").fetchall()
    return {row[0] for row in rows if row[0]}


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
