"""`import_settlement_file`: archive the raw bytes, parse them, then land them in the lake (or the
quarantine).

One module of about 530 lines on purpose: it is the order of one import (commit the archive copy, recognise
bytes already landed, attribute the account, parse, stage, publish), and that order is what makes a killed
import recoverable. The parsing itself lives in the modules it calls (head, convert, diagnosis)."""

from __future__ import annotations

import contextlib
import shlex
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from lake.layout import writing
from transforms import crash_points, prestage
from transforms.archive import ArchivedObject, RawArchive, StagedObject
from transforms.quarantine import find_sidecar, quarantine_file
from transforms.settlement import lake as lake_io
from transforms.settlement.accounts import AccountDirectory, Resolution
from transforms.settlement.convert import convert_lines
from transforms.settlement.errors import EmptySettlementFile, SettlementFileError
from transforms.settlement.file_shape import ConvertedLines
from transforms.settlement.head import inspect_head
from transforms.settlement.line_scan import LineScan
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
    account_id: str | None = None  # the account the settlement is (now) landed for

    def to_json(self) -> dict:
        """The object `acorn import --json` prints for this file; the message names the account."""
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
    accounts: AccountDirectory | None = None,
    reattribute: bool = False,
    argument: str | None = None,
) -> ImportOutcome:
    """Archive a settlement file's bytes and land its lines in the lake (or quarantine it); see the module.

    The bytes are copied into the archive and hashed first, and what is parsed is that copy, so the lake holds
    exactly the bytes archived even if the file changes meanwhile. The copy's flush to disk overlaps the parse;
    nothing reaches the lake or the quarantine until the archive holds the bytes for good, and they are
    archived even when the parse fails.

    `accounts` (the config's accounts): `account_id` must be one of its seller accounts (UnknownAccount,
    raised before anything is archived), and without `account_id` the account is inferred from the file's
    marketplaces, or the file is `rejected` saying which accounts could be meant (transforms/settlement/
    accounts.py). Without `accounts` the lines land with `account_id` as given.

    Bytes already landed for another account (or for none) are `rejected` with the command that fixes it;
    `reattribute=True` (needs `account_id`) is that command: the settlement's lake rows and the archive's
    manifest are rewritten to `account_id`. Bytes landed for the same account are a `duplicate`.

    `argument`: how the user named the file, for the commands messages suggest (default: `src`); a Celery
    worker imports a copy it downloaded, which is not the path the user gave (stored_imports.py)."""
    src = Path(src)
    data_dir = Path(data_dir)
    if account_id is not None and accounts is not None:
        accounts.check(account_id)
    if reattribute and account_id is None:
        raise ValueError(
            "re-attributing a settlement needs the account it belongs to (account_id, --account)"
        )
    job = _Import(
        src=src,
        data_dir=data_dir,
        shown=display_name or src.name,
        account_id=account_id,
        charset_hint=charset_hint,
        document_created_at=document_created_at,
        origin=origin,
        accounts=accounts,
        reattribute=reattribute,
        argument=argument,
    )
    with writing(data_dir):  # the clean-up of interrupted imports leaves this one's staging alone
        return _import(job, src, data_dir, account_id=account_id, origin=origin, charset_hint=charset_hint)


def _import(
    job: _Import,
    src: Path,
    data_dir: Path,
    *,
    account_id: str | None,
    origin: str,
    charset_hint: str | None,
) -> ImportOutcome:
    meta = {"file_name": src.name}
    if charset_hint:
        meta["charset_hint"] = charset_hint
    if account_id:
        meta["account_id"] = account_id
    archive = RawArchive(data_dir / "raw")
    # The copy `acorn import` forked before Dagster loaded, when it is this file unchanged (transforms/
    # prestage.py); none when the archive also goes to an object store (stage_file sends it there, the child
    # does not).
    forked = prestage.claim(src, data_dir) if archive.store is None else None
    if forked is not None:
        staged, scan = forked
    else:
        scan = LineScan()
        staged = archive.stage_file(src, on_chunk=scan.feed)
    commit = _Commit(
        archive, staged, source=f"import:{src.name}" if origin == "import" else origin, meta=meta
    )
    if archive.path_for(staged.sha256).exists():
        # Seen before: the duplicate rules decide (the staged copy is dropped).
        archived = commit()
        return job.seen_before(archived, account_id=account_id, path=archived.path) or job.parse_and_land(
            archived.path, commit, scan
        )
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
    origin: str = "import"
    accounts: AccountDirectory | None = None
    reattribute: bool = False
    argument: str | None = None  # how the user named the file, when `src` is a copy of it

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"

    def seen_before(
        self, archived: ArchivedObject, *, account_id: str | None, path: Path | None = None
    ) -> ImportOutcome | None:
        """The outcome of bytes imported, quarantined or rejected before; None when they are new to the lake.

        `account_id`: the account this import is for (None: not said). Bytes already in the lake for another
        account (or for none, from before accounts were resolved) are re-attributed when asked to, else
        refused with the command that does it. `path`: the bytes, to infer the account for that command."""
        if archived.is_new:
            return None
        sha = archived.sha256
        seen = lake_io.known_versions(self.lake).get(sha)
        if seen is not None:
            return self._already_landed(seen, sha, account_id, path)
        sidecar = find_sidecar(self.data_dir / "quarantine", sha)
        if sidecar is not None and not sidecar.get("unexpected"):
            return ImportOutcome(
                self.shown,
                sidecar["status"],
                None,
                0,
                f"already {sidecar['status']}: {sidecar['reason']}",
                sha,
            )
        return None

    def _already_landed(
        self, seen: dict, sha: str, requested: str | None, path: Path | None
    ) -> ImportOutcome:
        logged_id = seen.get("settlement_id")
        event = "imported" if seen.get("event") == "reattributed" else seen.get("event")
        same = f"same bytes as {seen.get('source_name')!s} (already {event}"
        if not isinstance(logged_id, str) or not lake_io.usable_settlement_id(logged_id):
            return ImportOutcome(self.shown, "duplicate", None, 0, f"{same}); lake unchanged", sha)
        settlement_id = logged_id
        current = lake_io.current_version(self.lake, settlement_id)
        if current is None:
            return ImportOutcome(self.shown, "duplicate", settlement_id, 0, f"{same}); lake unchanged", sha)
        held = current.account_id
        when = str(seen.get("logged_at") or "")[:10] or "an earlier run"
        if requested is None and held is None and self.accounts is not None:
            # Landed before imports resolved accounts: say so, and how to attribute it.
            resolution = self._resolve_from_head(path)
            inferred = resolution.account_id if resolution is not None else None
            why = f" ({resolution.message})" if resolution is not None and not resolution.ok else ""
            return ImportOutcome(
                self.shown,
                "rejected",
                settlement_id,
                0,
                f"already imported without an account on {when} (settlement {settlement_id}, from "
                f"{seen.get('source_name')}); to attribute it run `acorn import --reattribute --account "
                f"{inferred or 'ACCOUNT'} {self._argument()}`{why}",
                sha,
            )
        if requested is None or requested == held:
            for_account = f", account {held!r}" if held else ""
            return ImportOutcome(
                self.shown, "duplicate", settlement_id, 0, f"{same}{for_account}); lake unchanged", sha, held
            )
        if self.reattribute or (held is None and self.origin != "import"):
            # (a document the SP-API listed for this account proves whose it is)
            return self._reattribute(settlement_id, sha, requested)
        held_text = f"for account {held!r}" if held else "without an account"
        return ImportOutcome(
            self.shown,
            "rejected",
            settlement_id,
            0,
            f"already imported {held_text} on {when} (settlement {settlement_id}, from "
            f"{seen.get('source_name')}); to re-attribute it to {requested!r} run `acorn import --reattribute "
            f"--account {requested} {self._argument()}`",
            sha,
            held,
        )

    def _argument(self) -> str:
        return shlex.quote(self.argument or str(self.src))

    def _resolve_from_head(self, path: Path | None) -> Resolution | None:
        if self.accounts is None or path is None:
            return None
        try:
            shape = inspect_head(path, charset_hint=self.charset_hint, file=self.shown)
        except (SettlementFileError, EmptySettlementFile):
            return None
        return self.accounts.resolve(shape.marketplace_names)

    def _reattribute(self, settlement_id: str, sha: str, account_id: str) -> ImportOutcome:
        """Rewrite a landed settlement's account: the archive's manifest first (a row per object), then the
        lake's lines and settlements row, then the versions log. Each step is idempotent and a crash between
        them leaves a state the next run completes (the lake, read last, still names the old account)."""
        archive = RawArchive(self.data_dir / "raw")
        current = lake_io.current_version(self.lake, settlement_id)
        for object_sha in dict.fromkeys([sha, current.raw_sha256 if current else sha]):
            with contextlib.suppress(KeyError):
                archive.record_account(object_sha, account_id)
        with lake_io.lake_lock(self.lake):
            lake_io.refresh_settlement(
                self.lake, settlement_id
            )  # scale-out: the store's version (else nothing)
            current = lake_io.current_version(self.lake, settlement_id)
            if current is None:
                return ImportOutcome(self.shown, "duplicate", settlement_id, 0, "lake unchanged", sha)
            previous = current.account_id
            if previous != account_id:
                # (its `reattributed` record goes to the versions log with the files, lake.py)
                lake_io.rewrite_account(self.lake, settlement_id, account_id, SETTLEMENTS_SCHEMA)
        before = f"account {previous!r}" if previous else "no account"
        return ImportOutcome(
            self.shown,
            "imported",
            settlement_id,
            current.line_count,
            f"settlement {settlement_id} re-attributed from {before} to {account_id!r}: its "
            f"{current.line_count} lines and the raw archive's manifest now name {account_id!r}",
            sha,
            account_id,
        )

    def _unexpected(self, error: Exception, committed: _Commit) -> ImportOutcome:
        """An error no rule foresaw (a bug, or a file unlike any seen): the file is quarantined naming it, so
        the import of the other files goes on. The sidecar says `unexpected`: importing the same bytes again
        tries again (once fixed, they land) instead of answering "already quarantined"."""
        reason = f"unexpected error while importing: {type(error).__name__}: {error}".strip()
        reason = reason.splitlines()[0][:500] if reason else "unexpected error"
        raw_sha = committed.staged.sha256
        try:
            archived = committed()
            quarantine_file(
                archived.path,
                self.data_dir / "quarantine",
                file=self.shown,
                sha256=raw_sha,
                reason=reason,
                status="quarantined",
                extra={"unexpected": True},
            )
        except Exception as second:
            reason += f" (and it could not be quarantined: {type(second).__name__}: {second})"
        return ImportOutcome(self.shown, "quarantined", None, 0, f"{self.shown}: {reason}", raw_sha)

    def _unattributed(self, settlement_id: str, resolution: Resolution, sha: str) -> ImportOutcome:
        """Refused: nobody said whose settlement this is and the config cannot tell. Nothing is quarantined
        (the file is fine): importing it again with --account lands it."""
        example = resolution.candidates[0] if resolution.candidates else "ACCOUNT"
        return ImportOutcome(
            self.shown,
            "rejected",
            settlement_id,
            0,
            f"settlement {settlement_id}: which account it belongs to is unknown: {resolution.message} "
            f"(e.g. `acorn import --account {example} {self._argument()}`)",
            sha,
        )

    def parse_and_land(self, path: Path, committed: _Commit, scan: LineScan) -> ImportOutcome:
        """Parse `path` (the staged or archived copy of the bytes) and land it, or quarantine the archived copy.

        `committed` commits the bytes to the archive; it is called before anything is written outside the
        staging area. `scan` is the LineScan of the bytes."""
        raw_sha = committed.staged.sha256
        account_id = self.account_id
        resolution: Resolution | None = None
        try:
            shape = inspect_head(path, charset_hint=self.charset_hint, file=self.shown, scan=scan)
            settlement_id = shape.summary.settlement_id
            if not lake_io.usable_settlement_id(settlement_id):
                raise SettlementFileError(
                    f"settlement-id {settlement_id!r} is not a plain identifier",
                    file=self.shown,
                    line=2,
                    column="settlement-id",
                )
            if account_id is None and self.accounts is not None:
                resolution = self.accounts.resolve(shape.marketplace_names)
                if not resolution.ok:
                    committed()
                    return self._unattributed(settlement_id, resolution, raw_sha)
                account_id = resolution.account_id
            staging = lake_io.staging_dir(self.lake)
            staged_lines = staging / lake_io.STAGED_LINES
            try:
                converted = convert_lines(
                    path,
                    shape,
                    staged_lines,
                    file=self.shown,
                    account_id=account_id,
                    raw_sha256=raw_sha,
                    line_scan=scan,
                    workdir=staging,
                )
                crash_points.pause_with_half_written("parquet", staged_lines)
                if resolution is not None and self.accounts is not None:
                    # The head chose the account; every marketplace of the file must agree with it.
                    whole = self.accounts.resolve(converted.marketplace_names or shape.marketplace_names)
                    if whole.account_id != account_id:
                        shutil.rmtree(staging, ignore_errors=True)
                        committed()
                        return self._unattributed(settlement_id, whole, raw_sha)
                if account_id is not None:
                    committed.meta["account_id"] = account_id
                archived_object = committed()
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        except EmptySettlementFile as empty:
            committed()
            return ImportOutcome(self.shown, "empty", empty.settlement_id, 0, empty.reason, raw_sha)
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
        except Exception as error:
            return self._unexpected(error, committed)

        # Another import may have archived the same bytes during this parse and decided their fate.
        seen = self.seen_before(archived_object, account_id=account_id, path=path)
        if seen is not None:
            shutil.rmtree(staging, ignore_errors=True)
            return seen
        if not archived_object.is_new and account_id is not None:
            # Bytes archived before without landing (e.g. refused for want of an account): say whose they are.
            with contextlib.suppress(KeyError):
                committed.archive.record_account(raw_sha, account_id)
        record = settlement_record(
            converted,
            account_id=account_id,
            raw_sha256=raw_sha,
            source_name=self.shown,
            document_created_at=self.document_created_at,
        )
        if resolution is not None:
            note = resolution.message
        elif account_id is not None:
            note = f"account {account_id!r}"
        else:
            note = ""
        crash_points.pause_at("staged", settlement_id=settlement_id, path=str(staged_lines))
        try:
            return _land(self.lake, staging, record, shown=self.shown, account_note=note)
        except Exception as error:
            return self._unexpected(error, committed)
        finally:
            shutil.rmtree(staging, ignore_errors=True)  # (published or dropped: gone either way)


def _land(lake: Path, staging: Path, record: dict, *, shown: str, account_note: str = "") -> ImportOutcome:
    """Publish a staging folder holding the lines (`settlement_lines.parquet`): the settlements row is written
    beside them, a journal records what is to happen, and `lake_io.publish` carries it out (lake.py)."""
    settlement_id = record["settlement_id"]
    sha = record["raw_sha256"]
    account_id = record["account_id"]
    log_fields = {
        "settlement_id": settlement_id,
        "raw_sha256": sha,
        "account_id": account_id,
        "source_name": shown,
        "document_created_at": record["document_created_at"],
        "line_count": record["line_count"],
        "total_amount": str(record["total_amount"]),
        "lines_total": str(record["lines_total"]),
    }
    with lake_io.lake_lock(lake):
        lake_io.refresh_settlement(lake, settlement_id)  # scale-out: the store's version (else nothing)
        current = lake_io.current_version(lake, settlement_id)
        if current is not None and current.raw_sha256 == sha:
            return ImportOutcome(
                shown, "duplicate", settlement_id, 0, "already in the lake", sha, current.account_id
            )
        if current is not None and not lake_io.is_newer(record["document_created_at"], current):
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
        lake_io.write_settlement_row(record, SETTLEMENTS_SCHEMA, staging / lake_io.STAGED_ROW)
        log: list[dict] = []
        if current is not None:
            log.append(
                {
                    "settlement_id": settlement_id,
                    "raw_sha256": current.raw_sha256,
                    "source_name": current.source_name,
                    "document_created_at": current.document_created_at,
                    "event": "superseded",
                    "superseded_by": sha,
                }
            )
        log.append({**log_fields, "event": "imported"})
        expected = [current.raw_sha256 if current is not None else None]
        lake_io.write_journal(staging, settlement_id, expected=expected, log=log)
        lake_io.publish(lake, staging)

    total, lines_total = record["total_amount"], record["lines_total"]
    currency = record["currency"] or ""
    reconciled = "reconciled" if total == lines_total else f"NOT reconciled: lines total {lines_total}"
    replaced = f"; replaces {current.source_name}" if current is not None else ""
    message = (
        f"settlement {settlement_id}: {record['line_count']} lines, total {total} {currency}".rstrip()
        + f", {reconciled}{replaced}"
        + (f"; {account_note}" if account_note else "")
    )
    return ImportOutcome(shown, "imported", settlement_id, record["line_count"], message, sha, account_id)


def _as_decimal(value: object) -> Decimal:
    return Decimal(str(value))
