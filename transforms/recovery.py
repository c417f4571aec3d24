"""Leftovers of interrupted runs: found, reported (what, where, how big) and, when no writer is active, cleared.

A process killed mid-import (or mid-landing, mid-archive, mid-download) can leave behind:

- `staging/<kind>-<id>` (lake/layout.py): files staged for the lake. A settlement's staging folder
  holding a publish journal (`publish.json`) was complete and being published: it is **finished** (its renames
  and versions-log records done, transforms/settlement/lake.py `publish`), so nothing of it is lost. Anything
  else there was never visible to a reader and is removed;
- `raw/objects/.tmp-*`, `raw/objects/<xx>/.tmp-*`: a copy not yet committed to the raw archive (the bytes are
  still in the file being imported, or are downloaded again); one a live process holds (`lake.layout.in_use`:
  `acorn import`'s copy made while its run starts, transforms/prestage.py) is no leftover;
- `quarantine/.tmp-*`, `tmp/*` (documents being downloaded), `.settlement-*` (transcoding scratch of older
  versions), and older versions' staging inside the lake (`lake/<dataset>/.tmp-*`,
  `lake/<dataset>/<partition>/.part-0.parquet.*.tmp`).

`recover` runs at the start of `acorn import`, `run`, `build` and `demo`; `acorn doctor` only reports
(`find_leftovers`). It takes the data dir's writers lock exclusively without waiting, and when another ACORN
process is writing (it holds the lock shared while anything it staged exists) it touches nothing and says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lake.layout import exclusive, in_use, staging_root
from transforms.settlement import lake as settlement_lake


@dataclass(frozen=True)
class Leftover:
    path: Path
    size: int  # bytes
    what: str
    settlement_id: str | None = None  # a settlement whose publish is to be finished

    def describe(self, data_dir: Path) -> str:
        try:
            shown = self.path.relative_to(data_dir)
        except ValueError:
            shown = self.path
        return f"{shown} ({human_size(self.size)}): {self.what}"


@dataclass
class Recovery:
    data_dir: Path
    removed: list[Leftover] = field(default_factory=list)
    finished: list[Leftover] = field(default_factory=list)
    skipped: list[Leftover] = field(default_factory=list)  # found, left alone: another writer is active

    def lines(self) -> list[str]:
        """One line per leftover: what was done with it, where it was and how big."""
        out = [f"recovered: finished publishing {item.describe(self.data_dir)}" for item in self.finished]
        out += [f"recovered: removed {item.describe(self.data_dir)}" for item in self.removed]
        if self.skipped:
            out.append(
                f"another ACORN process is writing to {self.data_dir}: {len(self.skipped)} staged or leftover "
                f"file(s) ({human_size(sum(item.size for item in self.skipped))}) left alone; a command started "
                "when no other is writing removes what an interrupted run left"
            )
        return out


def find_leftovers(data_dir: Path) -> list[Leftover]:
    """Everything an interrupted run may have left in `data_dir`, read only (nothing is changed)."""
    data_dir = Path(data_dir)
    found: list[Leftover] = []
    staging = staging_root(data_dir)
    if staging.is_dir():
        for path in sorted(staging.iterdir()):
            journal = settlement_lake.read_journal(path) if path.is_dir() else None
            if journal is not None:
                what = (
                    f"settlement {journal['settlement_id']} staged and being published when its run stopped"
                )
                found.append(Leftover(path, _size(path), what, str(journal["settlement_id"])))
            else:
                found.append(Leftover(path, _size(path), "staged by a run that stopped, never published"))
    objects = data_dir / "raw" / "objects"
    for path in _matches(objects, ".tmp-*", "*/.tmp-*"):
        if in_use(path):
            continue  # a live command's copy, made before its run started (transforms/prestage.py)
        found.append(Leftover(path, _size(path), "a copy never committed to the raw archive"))
    for path in _matches(data_dir / "quarantine", ".tmp-*"):
        found.append(Leftover(path, _size(path), "a quarantine copy never completed"))
    for path in _matches(data_dir / "tmp", "*"):
        found.append(Leftover(path, _size(path), "a download never imported"))
    for path in _matches(data_dir, ".settlement-*"):
        found.append(Leftover(path, _size(path), "transcoding scratch of an import that stopped"))
    for path in _matches(data_dir / "lake", "*/.tmp-*", "*/*/.*.tmp"):
        found.append(Leftover(path, _size(path), "staged inside the lake by an older ACORN, never published"))
    return found


def recover(data_dir: Path) -> Recovery:
    """Finish or remove the leftovers of interrupted runs, unless another ACORN process is writing."""
    data_dir = Path(data_dir)
    recovery = Recovery(data_dir)
    if not data_dir.is_dir():
        return recovery
    with exclusive(data_dir) as alone:
        found = find_leftovers(data_dir)
        if not alone:
            recovery.skipped = found
            return recovery
        for item in found:
            if item.settlement_id is not None:
                lake = data_dir / "lake"
                with settlement_lake.lake_lock(lake):
                    if settlement_lake.publish(lake, item.path):
                        recovery.finished.append(item)
                        continue
                recovery.removed.append(
                    Leftover(
                        item.path, item.size, f"settlement {item.settlement_id}: a newer version landed since"
                    )
                )
                continue
            _remove(item.path)
            recovery.removed.append(item)
    return recovery


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _matches(folder: Path, *patterns: str) -> Iterator[Path]:
    if not folder.is_dir():
        return
    seen: set[Path] = set()
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            if path not in seen:
                seen.add(path)
                yield path


def _size(path: Path) -> int:
    try:
        if path.is_symlink() or not path.is_dir():
            return path.lstat().st_size
        return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir() or p.is_symlink())
    except OSError:
        return 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
