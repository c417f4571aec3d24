"""`import_settlement_file`: archive the raw bytes, parse them, then land them in the lake (or the
quarantine)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from transforms.archive import RawArchive
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
    src = Path(src)
    data_dir = Path(data_dir)
    shown = display_name or src.name
    lake = data_dir / "lake"
    quarantine_dir = data_dir / "quarantine"

    scan = LineScan()
    source = f"import:{src.name}" if origin == "import" else origin
    meta = {"file_name": src.name}
    if charset_hint:
        meta["charset_hint"] = charset_hint
    if account_id:
        meta["account_id"] = account_id
    archived = RawArchive(data_dir / "raw").put_file(
        src, kind=ARCHIVE_KIND, source=source, meta=meta, on_chunk=scan.feed
    )
    sha = archived.sha256

    if not archived.is_new:
        seen = lake_io.known_versions(lake).get(sha)
        if seen is not None:
            return ImportOutcome(
                shown,
                "duplicate",
                seen.get("settlement_id"),
                0,
                f"same bytes as {seen.get('source_name')!s} (already {seen.get('event')}); lake unchanged",
                sha,
            )
        sidecar = find_sidecar(quarantine_dir, sha)
        if sidecar is not None:
            return ImportOutcome(
                shown, sidecar["status"], None, 0, f"already {sidecar['status']}: {sidecar['reason']}", sha
            )

    try:
        shape = inspect_head(archived.path, charset_hint=charset_hint, file=shown)
        settlement_id = shape.summary.settlement_id
        if not lake_io.usable_settlement_id(settlement_id):
            raise SettlementFileError(
                f"settlement-id {settlement_id!r} is not a plain identifier",
                file=shown,
                line=2,
                column="settlement-id",
            )
        staged_lines = lake_io.staging_dir(lake, lake_io.LINES) / lake_io.PART
        try:
            converted = convert_lines(
                archived.path,
                shape,
                staged_lines,
                file=shown,
                account_id=account_id,
                raw_sha256=sha,
                scan=scan,
                workdir=data_dir,
            )
        except BaseException:
            shutil.rmtree(staged_lines.parent, ignore_errors=True)
            raise
    except EmptySettlementFile:
        return ImportOutcome(shown, "empty", None, 0, "empty file: nothing to import", sha)
    except SettlementFileError as error:
        status: ImportStatus = "rejected" if error.kind == "not_settlement" else "quarantined"
        quarantine_file(
            archived.path,
            quarantine_dir,
            file=shown,
            sha256=sha,
            reason=error.reason,
            status=status,
            line=error.line,
            column=error.column,
        )
        return ImportOutcome(shown, status, None, 0, error.message, sha)

    record = settlement_record(
        converted,
        account_id=account_id,
        raw_sha256=sha,
        source_name=shown,
        document_created_at=document_created_at,
    )
    return _land(lake, staged_lines, record, shown=shown)


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
