"""One export: read the selected journals, refuse when a line is unmapped, render the format, write its files and
its manifest, and say what changed since the last export in the same folder.

Files are written whole (a temporary file renamed over the old one), so an interrupted export leaves the last
good file, never half of one; the manifest is written last, so it never names a file that is not there.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from books.chart import Chart
from books.formats import ExportOptions, exporters
from books.journal import journals_from_lines
from books.manifest import (
    Changes,
    build_manifest,
    compare,
    manifest_bytes,
    manifest_name,
    read_manifest,
    stale_files,
)
from books.warehouse import Selection, UnmappedLine, read_books


class UnmappedLines(Exception):
    """Lines no posting rule maps: nothing is exported until the rules map them."""

    def __init__(self, rows: list[UnmappedLine]) -> None:
        super().__init__(f"{len(rows)} unmapped group(s)")
        self.rows = rows


@dataclass
class ExportResult:
    export_format: str
    out_dir: Path
    journals: int
    files: list[str]
    changes: Changes
    skipped: dict[str, str] = field(default_factory=dict)
    removed_files: list[str] = field(default_factory=list)
    # journal id -> the file it is in (to re-import a changed journal from)
    file_of: dict[str, str] = field(default_factory=dict)


def write_whole(path: Path, data: bytes) -> None:
    """Write the bytes to a temporary file beside `path` and rename it over `path` (atomic on one file system)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_books(
    warehouse: Path,
    out_dir: Path,
    export_format: str,
    selection: Selection,
    chart: Chart,
    options: ExportOptions,
) -> ExportResult:
    lines, unmapped = read_books(warehouse, selection)
    if unmapped:
        raise UnmappedLines(unmapped)
    journals = journals_from_lines(lines)
    rendered = exporters()[export_format](journals, chart, options)
    manifest = build_manifest(
        export_format,
        {"account": selection.account_id, "month": selection.month},
        rendered.journals,
        rendered.files,
        rendered.skipped,
    )
    previous = read_manifest(out_dir, export_format)
    changes = compare(previous, manifest)
    removed = stale_files(previous, manifest)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in rendered.files.items():
        path = out_dir / name
        if not path.is_file() or path.read_bytes() != data:
            write_whole(path, data)
    for name in removed:
        # Only a plain file name of this folder: a manifest edited by hand never deletes elsewhere.
        if name == Path(name).name:
            (out_dir / name).unlink(missing_ok=True)
    manifest_path, data = out_dir / manifest_name(export_format), manifest_bytes(manifest)
    if not manifest_path.is_file() or manifest_path.read_bytes() != data:
        write_whole(manifest_path, data)
    return ExportResult(
        export_format=export_format,
        out_dir=out_dir,
        journals=len(rendered.journals),
        files=sorted(rendered.files),
        changes=changes,
        skipped=rendered.skipped,
        removed_files=removed,
        file_of={journal_id: file for journal_id, (file, _) in rendered.journals.items()},
    )
