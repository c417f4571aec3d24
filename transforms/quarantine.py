"""data/quarantine/: whole files that could not be imported, each beside a JSON sidecar saying why and where.

Nothing from a quarantined file reaches the lake. The sidecar names the reason, the file, the 1-based line
and the column (when the problem has a place) and the sha256 of the bytes, which are also in the raw archive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from lake.layout import writing


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"


def quarantine_file(
    src: Path,
    quarantine_dir: Path,
    *,
    file: str,
    sha256: str,
    reason: str,
    status: str,
    line: int | None = None,
    column: str | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    """Copy `src` into the quarantine with its sidecar (both written atomically); returns the sidecar path.

    `extra`: more fields for the sidecar (`unexpected: true` marks a failure no rule foresaw: the same bytes
    are tried again when imported again)."""
    with writing(quarantine_dir.parent):
        return _quarantine_file(src, quarantine_dir, file, sha256, reason, status, line, column, extra)


def _quarantine_file(
    src: Path,
    quarantine_dir: Path,
    file: str,
    sha256: str,
    reason: str,
    status: str,
    line: int | None,
    column: str | None,
    extra: dict[str, object] | None,
) -> Path:
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{sha256[:12]}-{_safe_name(Path(file).name)}"
    target = quarantine_dir / stem
    if not target.exists():
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=quarantine_dir)
        os.close(fd)
        shutil.copyfile(src, tmp)
        os.replace(tmp, target)
    sidecar = quarantine_dir / f"{stem}.json"
    record = {
        "status": status,
        "reason": reason,
        "file": file,
        "line": line,
        "column": column,
        "sha256": sha256,
        "quarantined_file": target.name,
        "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=quarantine_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(record, out, indent=2)
        out.write("\n")
    os.replace(tmp, sidecar)
    return sidecar


def sidecars(quarantine_dir: Path) -> Iterator[dict]:
    for path in sorted(quarantine_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            yield record


def find_sidecar(quarantine_dir: Path, sha256: str) -> dict | None:
    """The sidecar of bytes already quarantined, if any."""
    for path in quarantine_dir.glob(f"{sha256[:12]}-*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("sha256") == sha256:
            return record
    return None
