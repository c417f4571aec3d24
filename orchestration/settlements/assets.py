"""Settlement reports: from the SP-API (or files a person downloaded) to the lake's settlement tables.

One asset function materialises both lake tables, because one document yields a settlement's summary and its
lines together and they must never disagree. It reads from two sources:
- the SP-API (default): getReports for both settlement report types, getReportDocument, then the document itself;
  reports whose document is already archived and landed are skipped, so the daily run costs one getReports call
  plus one download per new settlement (getReportDocument allows about one call a minute);
- `import_files` in the run config: files a person downloaded from Seller Central (`acorn import`, inbox sensor);
  on Celery workers that share no disk with the importing host, `stored_files` instead: the same files sent to
  the object store and named by sha256, which the step downloads and checks first (stored_imports.py).
Either way the raw bytes are archived first (content-addressed), then parsed; a bad file is quarantined whole.

Imported files land for `account_id` when the run config names one (it must be a seller account of the config,
checked before anything is archived), else for the account their marketplaces point to
(`orchestration/settlements/accounts.py`); `reattribute` moves a settlement already landed for another account.

Partitioned by account (orchestration/account_partitions.py): from the SP-API, a run reads the seller accounts of
its partitions; an import for `account_id` must be a run of that account's partition (`acorn import --account`),
and an import that infers the account, or reattributes, is a run over every account's partition.
"""

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg

from lake.layout import writing
from orchestration.account_partitions import (
    ACCOUNT_PARTITIONS,
    AccountsRun,
    each_account,
    finish_accounts,
    run_accounts,
    run_partition_keys,
    waiting_logger,
)
from orchestration.lake_metadata import lake_materialization
from orchestration.outcomes import CouldNotRun
from orchestration.resources import DataDirResource, SpApiResource
from orchestration.settlements.accounts import AccountDirectory, import_accounts
from orchestration.settlements.landed import landed_documents
from orchestration.settlements.stored_imports import StoredFile, StoreUnavailable, discard, fetch_file
from spapi.config import AccountConfig
from spapi.errors import ConfigError
from transforms.archive import ArchiveCopyError, StoredObjectMismatch
from transforms.settlement import ImportOutcome, import_settlement_file

SETTLEMENT_REPORT_TYPES = (
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
)
# getReports keeps settlement reports for 90 days: asking for more returns nothing more.
REPORT_RETENTION = timedelta(days=90)

SETTLEMENT_LINES = dg.AssetKey(["lake", "settlement_lines"])
SETTLEMENTS = dg.AssetKey(["lake", "settlements"])
SPAPI_SETTLEMENT_REPORTS = dg.AssetKey(["spapi", "settlement_reports"])

spapi_settlement_reports = dg.AssetSpec(
    SPAPI_SETTLEMENT_REPORTS,
    description="Settlement reports Amazon generates per settlement period (Reports API 2021-06-30), "
    "kept by Amazon for 90 days; the raw archive keeps them for good.",
    group_name="settlements",
    kinds={"api"},
)


class StoredFileConfig(dg.Config):
    """A file sent to the object store by the host that imports it (stored_imports.py); no credential here."""

    sha256: str
    size: int
    name: str  # the file's name
    argument: str  # the path as given on the importing host


class SettlementSourceConfig(dg.Config):
    """Run config: leave `import_files` and `stored_files` empty to read from the SP-API."""

    import_files: list[str] = []  # noqa: RUF012 (Dagster config fields are copied per run)
    # Files on another host, read from the object store by sha256 (Celery workers that share no disk).
    stored_files: list[StoredFileConfig] = []  # noqa: RUF012
    # The seller account the files belong to; None: inferred from each file's marketplaces.
    account_id: str | None = None
    # Settlements these files already landed for another account (or for none) move to `account_id`.
    reattribute: bool = False


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SETTLEMENT_LINES,
            deps=[SPAPI_SETTLEMENT_REPORTS],
            description="One row per settlement line (both flat-file layouts), Parquet partitioned by settlement.",
            group_name="settlements",
            kinds={"parquet"},
        ),
        dg.AssetSpec(
            SETTLEMENTS,
            deps=[SPAPI_SETTLEMENT_REPORTS],
            description="One row per settlement: the report's summary row and how it was parsed.",
            group_name="settlements",
            kinds={"parquet"},
        ),
    ],
    can_subset=False,
    partitions_def=ACCOUNT_PARTITIONS,
)
def settlement_reports(
    context: dg.AssetExecutionContext,
    config: SettlementSourceConfig,
    spapi: SpApiResource,
    data: DataDirResource,
) -> Iterator[dg.MaterializeResult]:
    paths = data.paths()
    # No GX preload here: the lake checks after this step need GX only for a frame that breaks a rule
    # (`passed_without_gx`), and importing it costs about 1 CPU s that a clean import would spend for nothing
    # (on this 2-core machine the parse keeps both cores busy, so the preload was not free either). The
    # warehouse's checks do the same (expectations/runner.py, `validated`).
    run: AccountsRun | None = None
    if config.import_files or config.stored_files:
        accounts = _import_accounts(spapi)
        if config.account_id is not None:
            accounts.check(config.account_id)  # UnknownAccount before any file is archived
            partitions = run_partition_keys(context)
            if partitions is not None and config.account_id not in partitions:
                raise CouldNotRun(
                    f"the files are imported for {config.account_id}, which is not among this run's partitions "
                    f"({', '.join(partitions)}): run the import for partition {config.account_id}"
                )
        elif config.reattribute:
            raise ValueError("reattribute needs account_id: the account the settlements move to")
        outcomes = [
            _import_one(
                Path(name),
                data_dir=paths.root,
                account_id=config.account_id,
                accounts=accounts,
                reattribute=config.reattribute,
            )
            for name in config.import_files
        ] + [
            _import_stored(
                StoredFile(stored.sha256, stored.size, stored.name, stored.argument),
                data_dir=paths.root,
                account_id=config.account_id,
                accounts=accounts,
                reattribute=config.reattribute,
            )
            for stored in config.stored_files
        ]
    else:
        run = run_accounts(context, spapi.accounts(), lambda account: account.kind == "seller")
        outcomes = [
            outcome
            for _, landed in each_account(
                context, run, lambda account: list(_fetch_from_spapi(context, spapi, account, paths.root))
            )
            for outcome in landed
        ]

    for outcome in outcomes:
        log = (
            context.log.info if outcome.status in ("imported", "duplicate", "empty") else context.log.warning
        )
        log(f"{outcome.file}: {outcome.status} ({outcome.rows} rows) {outcome.message}".rstrip())

    counts: Counter[str] = Counter(outcome.status for outcome in outcomes)
    summary: dict[str, Any] = {
        "files": len(outcomes),
        **{
            f"files_{status}": counts.get(status, 0)
            for status in ("imported", "duplicate", "empty", "quarantined", "rejected")
        },
        "rows_imported": sum(o.rows for o in outcomes if o.status == "imported"),
        "outcomes": dg.MetadataValue.json([o.to_json() for o in outcomes]),
        "lake_path": dg.MetadataValue.path(str(paths.lake)),
        **(run.metadata() if run is not None else {}),
    }
    if run is not None:
        finish_accounts(context, run, [SETTLEMENT_LINES, SETTLEMENTS])
    yield lake_materialization(paths.lake, SETTLEMENT_LINES, summary)
    yield lake_materialization(
        paths.lake,
        SETTLEMENTS,
        {"settlements_imported": counts.get("imported", 0), "lake_path": str(paths.lake)},
    )


def _import_one(
    path: Path,
    *,
    data_dir: Path,
    account_id: str | None,
    accounts: AccountDirectory,
    reattribute: bool,
    argument: str | None = None,
) -> ImportOutcome:
    """One file of an import: whatever goes wrong with it is its outcome, and the other files are still tried.

    The importer turns a failure while parsing or landing the archived bytes into a quarantine; what is left
    here is mostly a file that could not even be read (it vanished, a permission, an I/O error): `rejected`.
    `argument`: the path the user gave, when `path` is a worker's copy of it."""
    given = argument or str(path)
    # A pipe (`acorn import <(cmd)`) is shown as /dev/fd/63, not "63".
    shown = given if given.startswith(("/dev/", "/proc/")) else None
    try:
        return import_settlement_file(
            path,
            data_dir=data_dir,
            account_id=account_id,
            origin="import",
            accounts=accounts,
            reattribute=reattribute,
            display_name=shown,
            argument=argument,
        )
    except Exception as error:
        return _rejected(shown or path.name, error)


def _rejected(name: str, error: Exception) -> ImportOutcome:
    detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return ImportOutcome(
        name,
        "rejected",
        None,
        0,
        f"{name}: could not be imported (nothing of it reached the lake): {type(error).__name__}: {detail}",
        None,
    )


def _import_stored(
    stored: StoredFile,
    *,
    data_dir: Path,
    account_id: str | None,
    accounts: AccountDirectory,
    reattribute: bool,
) -> ImportOutcome:
    """A file another host sent to the object store: downloaded into this data dir by its sha256 (checked),
    then imported as a local file, and the downloaded copy removed (the archive keeps the bytes). A missing
    object, or bytes that do not hash to their name, are `rejected`: nothing of them reaches the lake. A store
    this worker cannot use stops the step (CouldNotRun): the file is fine, the worker's settings are not."""
    shown = stored.argument if stored.argument.startswith(("/dev/", "/proc/")) else stored.name
    with writing(data_dir):  # the clean-up of leftovers leaves the download alone meanwhile
        try:
            fetched = fetch_file(stored, data_dir=data_dir)
        except StoredObjectMismatch as error:
            return _rejected(shown, error)
        except (ArchiveCopyError, StoreUnavailable) as error:
            raise CouldNotRun(
                f"{shown} could not be read from the object store on this worker: {error}. Fix: give this "
                "worker the same ACORN_OBJECT_STORE_URL, ACORN_S3_ENDPOINT_URL and AWS_* variables as the host "
                "that imports, check that the store answers from it, and import again (a duplicate of what "
                "landed meanwhile is recognised)"
            ) from None
        try:
            return _import_one(
                fetched,
                data_dir=data_dir,
                account_id=account_id,
                accounts=accounts,
                reattribute=reattribute,
                argument=stored.argument,
            )
        finally:
            discard(fetched)


def _import_accounts(spapi: SpApiResource) -> AccountDirectory:
    path = spapi.resolved_config_path()
    try:
        return import_accounts(path)
    except ConfigError as error:
        raise CouldNotRun(
            f"the accounts config does not load, so imported files cannot be given an account: {error} "
            "(`acorn doctor` says how to fix it)"
        ) from error


def _fetch_from_spapi(
    context: dg.AssetExecutionContext, spapi: SpApiResource, account: AccountConfig, data_dir: Path
) -> Iterator[ImportOutcome]:
    created_since = spapi.now() - REPORT_RETENTION
    scratch = data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
        # (inside the client: under the account's lock, the lake refreshed from the store in scale-out)
        already = landed_documents(data_dir, account.id)
        for page in client.iter_reports(SETTLEMENT_REPORT_TYPES, created_since=created_since):
            for report in page.items:
                document_id = report.get("reportDocumentId")
                source = f"spapi:{account.id}:report/{report['reportId']}"
                if not document_id or source in already:
                    continue
                # (the writers lock: the clean-up of interrupted runs leaves this download alone)
                with writing(data_dir):
                    downloaded = client.download_report_document(document_id, scratch)
                    try:
                        outcome = import_settlement_file(
                            downloaded.path,
                            data_dir=data_dir,
                            account_id=account.id,
                            origin=source,
                            charset_hint=downloaded.charset,
                            document_created_at=_parse_time(report.get("createdTime")),
                            display_name=f"{account.id}/{report['reportId']}",
                        )
                    finally:
                        downloaded.path.unlink(missing_ok=True)
                yield outcome
    context.log.info(f"{account.id}: settlement reports checked")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def outcomes_from_metadata(metadata: dict[str, object]) -> list[dict[str, object]]:
    """The per-file outcomes an `acorn import` run recorded, read back from its materialization."""
    value = metadata.get("outcomes")
    data = getattr(value, "data", value)
    return list(data) if isinstance(data, list) else json.loads(str(data))
