"""`import_settlement_file`: archive the raw bytes, parse them, then land them in the lake (or the
quarantine)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from transforms.archive import ArchivedObject, RawArchive
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

    Copying a large file into the archive is disk-bound and parsing it is CPU-bound, so the two run side by
    side: the file's sha256 is taken first (the lake rows carry it), the archive pass copies, re-hashes and
    fsyncs while DuckDB parses the same file, and nothing reaches the lake or the quarantine until the archive
    holds exactly the bytes hashed. A file that changed meanwhile is parsed again from the archived copy."""
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

    def put() -> ArchivedObject:
        source = f"import:{src.name}" if origin == "import" else origin
        return archive.put_file(src, kind=ARCHIVE_KIND, source=source, meta=meta, on_chunk=scan.feed)

    expected = file_sha256(src)
    if archive.path_for(expected).exists():
        # Seen before: archive first (nothing to copy), then the duplicate rules decide.
        archived = put()
        return job.seen_before(archived) or job.parse_and_land(archived.path, lambda: archived, lambda: scan)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="acorn-archive") as pool:
        archiving = pool.submit(put)

        def archived_scan() -> LineScan:
            archiving.result()
            return scan

        try:
            return job.parse_and_land(src, archiving.result, archived_scan, sha=expected)
        except _ChangedWhileImported:
            archived = archiving.result()
            return job.parse_and_land(archived.path, lambda: archived, lambda: scan)


def file_sha256(path: Path) -> str:
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class _ChangedWhileImported(Exception):
    """The archived bytes are not the bytes that were hashed and parsed: the file changed during the import."""


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

    def parse_and_land(
        self,
        path: Path,
        archived: Callable[[], ArchivedObject],
        scan: Callable[[], LineScan],
        *,
        sha: str | None = None,
    ) -> ImportOutcome:
        """Parse `path` (the file or its archived copy) and land it, or quarantine the archived copy.

        `archived` and `scan` return the archive pass's results (waiting for it when it runs beside the parse);
        `archived` is called before anything is written outside the staging area. `sha`: the hash taken before
        the archive pass ran beside the parse, which the archived bytes must have."""

        def committed() -> ArchivedObject:
            result = archived()
            if sha is not None and result.sha256 != sha:
                raise _ChangedWhileImported(self.shown)
            return result

        raw_sha = sha if sha is not None else committed().sha256
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

        # Archived beside the parse: another import may have archived the same bytes meanwhile and decided their
        # fate (otherwise the caller asked seen_before first).
        seen = self.seen_before(archived_object) if sha is not None else None
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
