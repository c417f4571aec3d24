"""The export manifest (`acorn-books-manifest-<format>.json` beside the files, so formats can share a folder):
the format, the selection, every journal with the sha256 of its text in the export and the file it is in, and
every file with its sha256.

It has no timestamp, so exporting the same journals twice writes the same bytes. Read before the next export
writes, it says what changed since: journals new, changed (a re-issued settlement, a changed posting rule, chart
or rate) or no longer there (a re-issue that moved a month part), which is what an accountant re-imports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_PREFIX = "acorn-books-manifest"
VERSION = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(
    export_format: str,
    selection: dict[str, str | None],
    journals: dict[str, tuple[str, str]],
    files: dict[str, bytes],
    skipped: dict[str, str],
) -> dict[str, Any]:
    return {
        "manifest_version": VERSION,
        "format": export_format,
        "selection": selection,
        "journals": {
            journal_id: {"file": file, "sha256": sha256(text.encode())}
            for journal_id, (file, text) in sorted(journals.items())
        },
        "skipped": dict(sorted(skipped.items())),
        "files": {name: {"sha256": sha256(data), "bytes": len(data)} for name, data in sorted(files.items())},
    }


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def manifest_name(export_format: str) -> str:
    return f"{MANIFEST_PREFIX}-{export_format}.json"


def read_manifest(folder: Path, export_format: str) -> dict[str, Any] | None:
    """The last export's manifest of the format in the folder, or None (none yet, or not one ACORN reads)."""
    try:
        data = json.loads((folder / manifest_name(export_format)).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and data.get("manifest_version") == VERSION else None


@dataclass
class Changes:
    """What this export holds against the last one in the same folder."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # In the last export (same format and selection), not in this one: replaced or withdrawn.
    gone: list[str] = field(default_factory=list)
    first_export: bool = True


def compare(previous: dict[str, Any] | None, current: dict[str, Any]) -> Changes:
    changes = Changes(first_export=previous is None)
    before = previous["journals"] if previous is not None else {}
    for journal_id, entry in current["journals"].items():
        if journal_id not in before:
            changes.new.append(journal_id)
        elif before[journal_id]["sha256"] != entry["sha256"]:
            changes.changed.append(journal_id)
        else:
            changes.unchanged.append(journal_id)
    if previous is not None and previous.get("selection") == current["selection"]:
        changes.gone = sorted(set(before) - set(current["journals"]))
    return changes


def stale_files(previous: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """Files the last export wrote that this one does not: removed, so the folder holds only this export."""
    if previous is None:
        return []
    return sorted(set(previous.get("files", {})) - set(current["files"]))
