"""`import_settlement_file`: archive the raw bytes, parse them, then land them in the lake (or the
quarantine)."""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from transforms.archive import ArchivedObject, RawArchive, StagedObject
from transforms.quarantine import find_sidecar, quarantine_file
from transforms.settlement import lake as lake_io
from transforms.settlement.errors import EmptySettlementFile, SettlementFileError
from transforms.settlement.parse import ConvertedLines, LineScan, convert_lines, inspect_head
from transforms.settlement.schema import SETTLEMENTS_SCHEMA

ImportStatus = Literal["imported", "duplicate", "empty", "quarantined", "rejected"]
ARCHIVE_KIND = "settlement_report"


@dataclass(frozen=True)
class ImportOutcome:
    file: str
    status: ImportStatus
    settlement_id: str | None
    rows: int
    message: str
    sha256: str | None

    def to_json(self) -> dict:
        """The object `acorn import --json` prints for this file (DESIGN.md)."""
        return {
            "file": self.file,
            "status": self.status,
            "settlement_id": self.settlement_id,
            "rows": self.rows,
            "message": self.message,
        }


def settlement_record(
    converted: ConvertedLines,
    *,
    account_id: str | None,
    raw_sha256: str | None,
    source_name: str,
    document_created_at: datetime | None,
) -> dict:
    shape = converted.shape
    summary = shape.summary
    return {
        "settlement_id": summary.settlement_id,
        "account_id": account_id,
        "source_layout": shape.layout,
        "marketplace_name": converted.marketplace_name,
        "currency": summary.currency,
        "period_start_at": summary.period_start_at,
        "period_end_at": summary.period_end_at,
        "deposit_at": summary.deposit_at,
        "total_amount": summary.total_amount,
        "lines_total": converted.lines_total,
        "line_count": converted.line_count,
        "raw_sha256": raw_sha256,
        "source_name": source_name,
        "document_created_at": document_created_at.astimezone(UTC) if document_created_at else None,
        "encoding": shape.encoding,
        "decimal_style": shape.decimal_style,
        "header_columns": list(shape.header),
    }


def import_settlement_file(
    src: Path,
    *,
    data_dir: Path,
    account_id: str | None = None,
    origin: str = "import",
    charset_hint: str | None = None,
    document_created_at: datetime | None = None,
    display_name: str | None = None,
) -> ImportOutcome:
    """Archive a settlement file's bytes and land its lines in the lake (or quarantine it); see the module.

    The bytes are copied into the archive and hashed first, and what is parsed is that copy, so the lake holds
    exactly the bytes archived even if the file changes meanwhile. The copy's flush to disk overlaps the parse;
    nothing reaches the lake or the quarantine until the archive holds the bytes for good, and they are
    archived even when the parse fails."""
    src = Path(src)
    data_dir = Path(data_dir)
    job = _Import(
        src=src,
        data_dir=data_dir,
        shown=display_name or src.name,
        account_id=account_id,
        charset_hint=charset_hint,
        document_created_at=document_created_at,
    )
    meta = {"file_name": src.name}
    if charset_hint:
        meta["charset_hint"] = charset_hint
    if account_id:
        meta["account_id"] = account_id
    archive = RawArchive(data_dir / "raw")
    scan = LineScan()
    staged = archive.stage_file(src, on_chunk=scan.feed)
    commit = _Commit(
        archive, staged, source=f"import:{src.name}" if origin == "import" else origin, meta=meta
    )
    if archive.path_for(staged.sha256).exists():
        # Seen before: the duplicate rules decide (the staged copy is dropped).
        archived = commit()
        return job.seen_before(archived) or job.parse_and_land(archived.path, commit, scan)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="acorn-archive-sync") as pool:
        commit.syncing = pool.submit(staged.sync)
        try:
            return job.parse_and_land(staged.path, commit, scan)
        finally:
            commit()  # archived whatever became of the parse


class _Commit:
    """Commits the staged copy to the archive once (later calls return the same object)."""

    def __init__(
        self, archive: RawArchive, staged: StagedObject, *, source: str, meta: dict[str, str]
    ) -> None:
        self.archive = archive
        self.staged = staged
        self.source = source
        self.meta = meta
        self.syncing: Future[None] | None = None
        self._archived: ArchivedObject | None = None

    def __call__(self) -> ArchivedObject:
        if self._archived is None:
            if self.syncing is not None:
                self.syncing.result()
            self._archived = self.archive.commit(
                self.staged, kind=ARCHIVE_KIND, source=self.source, meta=self.meta
            )
        return self._archived


@dataclass(frozen=True)
class _Import:
    src: Path
    data_dir: Path
    shown: str
    account_id: str | None
    charset_hint: str | None
    document_created_at: datetime | None

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    def seen_before(self, archived: ArchivedObject) -> ImportOutcome | None:
        """The outcome of bytes imported, quarantined or rejected before; None when they are new to the lake."""
        if archived.is_new:
            return None
        sha = archived.sha256
        seen = lake_io.known_versions(self.lake).get(sha)
        if seen is not None:
            return ImportOutcome(
                self.shown,
                "duplicate",
                seen.get("settlement_id"),
                0,
                f"same bytes as {seen.get('source_name')!s} (already {seen.get('event')}); lake unchanged",
                sha,
            )
        sidecar = find_sidecar(self.data_dir / "quarantine", sha)
        if sidecar is not None:
            return ImportOutcome(
                self.shown,
                sidecar["status"],
                None,
                0,
                f"already {sidecar['status']}: {sidecar['reason']}",
                sha,
            )
        return None

    def parse_and_land(self, path: Path, committed: _Commit, scan: LineScan) -> ImportOutcome:
        """Parse `path` (the staged or archived copy of the bytes) and land it, or quarantine the archived copy.

        `committed` commits the bytes to the archive; it is called before anything is written outside the
        staging area. `scan` is the LineScan of the bytes."""
        raw_sha = committed.staged.sha256
        try:
            shape = inspect_head(path, charset_hint=self.charset_hint, file=self.shown)
            settlement_id = shape.summary.settlement_id
            if not lake_io.usable_settlement_id(settlement_id):
                raise SettlementFileError(
                    f"settlement-id {settlement_id!r} is not a plain identifier",
                    file=self.shown,
                    line=2,
                    column="settlement-id",
                )
            staged_lines = lake_io.staging_dir(self.lake, lake_io.LINES) / lake_io.PART
            try:
                converted = convert_lines(
                    path,
                    shape,
                    staged_lines,
                    file=self.shown,
                    account_id=self.account_id,
                    raw_sha256=raw_sha,
                    line_scan=scan,
                    workdir=self.data_dir,
                )
                archived_object = committed()
            except BaseException:
                shutil.rmtree(staged_lines.parent, ignore_errors=True)
                raise
        except EmptySettlementFile:
            committed()
            return ImportOutcome(self.shown, "empty", None, 0, "empty file: nothing to import", raw_sha)
        except SettlementFileError as error:
            archived_object = committed()
            status: ImportStatus = "rejected" if error.kind == "not_settlement" else "quarantined"
            quarantine_file(
                archived_object.path,
                self.data_dir / "quarantine",
                file=self.shown,
                sha256=raw_sha,
                reason=error.reason,
                status=status,
                line=error.line,
                column=error.column,
            )
            return ImportOutcome(self.shown, status, None, 0, error.message, raw_sha)

        # Another import may have archived the same bytes during this parse and decided their fate.
        seen = self.seen_before(archived_object)
        if seen is not None:
            shutil.rmtree(staged_lines.parent, ignore_errors=True)
            return seen
        record = settlement_record(
            converted,
            account_id=self.account_id,
            raw_sha256=raw_sha,
            source_name=self.shown,
            document_created_at=self.document_created_at,
        )
        return _land(self.lake, staged_lines, record, shown=self.shown)


def _land(lake: Path, staged_lines: Path, record: dict, *, shown: str) -> ImportOutcome:
    settlement_id = record["settlement_id"]
    sha = record["raw_sha256"]
    log_fields = {
        "settlement_id": settlement_id,
        "raw_sha256": sha,
        "source_name": shown,
        "document_created_at": record["document_created_at"],
        "line_count": record["line_count"],
        "total_amount": str(record["total_amount"]),
        "lines_total": str(record["lines_total"]),
    }
    with lake_io.lake_lock(lake):
        current = lake_io.current_version(lake, settlement_id)
        if current is not None and current.raw_sha256 == sha:
            shutil.rmtree(staged_lines.parent, ignore_errors=True)
            return ImportOutcome(shown, "duplicate", settlement_id, 0, "already in the lake", sha)
        if current is not None and not lake_io.is_newer(record["document_created_at"], current):
            shutil.rmtree(staged_lines.parent, ignore_errors=True)
            lake_io.log_version(
                lake, {**log_fields, "event": "older_than_current", "current": current.raw_sha256}
            )
            return ImportOutcome(
                shown,
                "duplicate",
                settlement_id,
                0,
                f"an older document of settlement {settlement_id}; the lake keeps the newer one "
                f"({current.source_name})",
                sha,
            )
        staged_row = lake_io.staging_dir(lake, lake_io.SETTLEMENTS) / lake_io.PART
        lake_io.write_settlement_row(record, SETTLEMENTS_SCHEMA, staged_row)
        lake_io.install(staged_lines, lake, lake_io.LINES, settlement_id)
        lake_io.install(staged_row, lake, lake_io.SETTLEMENTS, settlement_id)
        if current is not None:
            lake_io.log_version(
                lake,
                {
                    "settlement_id": settlement_id,
                    "raw_sha256": current.raw_sha256,
                    "source_name": current.source_name,
                    "document_created_at": current.document_created_at,
                    "event": "superseded",
                    "superseded_by": sha,
                },
            )
        lake_io.log_version(lake, {**log_fields, "event": "imported"})

    total, lines_total = record["total_amount"], record["lines_total"]
    currency = record["currency"] or ""
    reconciled = "reconciled" if total == lines_total else f"NOT reconciled: lines total {lines_total}"
    replaced = f"; replaces {current.source_name}" if current is not None else ""
    message = (
        f"settlement {settlement_id}: {record['line_count']} lines, total {total} {currency}".rstrip()
        + f", {reconciled}{replaced}"
    )
    return ImportOutcome(shown, "imported", settlement_id, record["line_count"], message, sha)


def _as_decimal(value: object) -> Decimal:
    return Decimal(str(value))
