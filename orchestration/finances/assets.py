"""Finance assets: Finances v0 groups and events, Finances 2024-06-19 transactions, balances and settlement
summaries, and Transfers expected payouts, from the SP-API into the lake (see README.md).

Each account's `event_source` decides what is read: `v0_events` reads v0 events, `transactions` reads the
2024-06-19 operations, `both` reads both (to cross-check while v0 still answers). Event groups are listed for
every seller account (listFinancialEventGroups is not deprecated): payouts are matched to them either way.
"""

# No `from __future__ import annotations` here: Dagster checks the `context` annotation as a class.
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import duckdb

from lake.read import register
from orchestration.account_partitions import (
    ACCOUNT_PARTITIONS,
    each_account,
    finish_accounts,
    run_accounts,
    waiting_logger,
)
from orchestration.clock import amazon_now
from orchestration.finances import transactions_landing as tx
from orchestration.finances import v0_landing as v0
from orchestration.lake_metadata import lake_materialization
from orchestration.resources import DataDirResource, SpApiResource
from spapi.config import AccountConfig
from transforms.archive import RawArchive

SPAPI_FINANCES_V0 = dg.AssetKey(["spapi", "finances_v0"])
SPAPI_FINANCES = dg.AssetKey(["spapi", "finances_2024_06_19"])
SPAPI_TRANSFERS = dg.AssetKey(["spapi", "transfers_2024_06_01"])

FINANCIAL_EVENT_GROUPS = dg.AssetKey(["lake", v0.GROUPS])
FINANCIAL_EVENT_GROUP_HISTORY = dg.AssetKey(["lake", v0.GROUP_HISTORY])
FINANCIAL_EVENTS = dg.AssetKey(["lake", v0.EVENTS])
FINANCIAL_EVENTS_UNKNOWN = dg.AssetKey(["lake", v0.EVENTS_UNKNOWN])
TRANSACTIONS = dg.AssetKey(["lake", tx.TRANSACTIONS])
TRANSACTION_TOTALS = dg.AssetKey(["lake", tx.TRANSACTION_TOTALS])
TRANSACTION_SUBTOTALS = dg.AssetKey(["lake", tx.TRANSACTION_SUBTOTALS])
TRANSACTION_STATUS_HISTORY = dg.AssetKey(["lake", tx.TRANSACTION_STATUS_HISTORY])
BALANCES = dg.AssetKey(["lake", tx.BALANCES])
SETTLEMENT_SUMMARIES = dg.AssetKey(["lake", tx.SETTLEMENT_SUMMARIES])
SETTLEMENT_SUMMARY_BREAKDOWNS = dg.AssetKey(["lake", tx.SETTLEMENT_SUMMARY_BREAKDOWNS])
EXPECTED_PAYOUTS = dg.AssetKey(["lake", tx.EXPECTED_PAYOUTS])
# Written by the settlements domain; its settlement ids say which listSummary calls to make.
LAKE_SETTLEMENTS = dg.AssetKey(["lake", "settlements"])

GROUP = "finances"
V0_KEYS = [FINANCIAL_EVENT_GROUPS, FINANCIAL_EVENT_GROUP_HISTORY, FINANCIAL_EVENTS, FINANCIAL_EVENTS_UNKNOWN]
TRANSACTIONS_KEYS = [
    TRANSACTIONS,
    TRANSACTION_TOTALS,
    TRANSACTION_SUBTOTALS,
    TRANSACTION_STATUS_HISTORY,
    BALANCES,
]


def _seller(account: AccountConfig) -> bool:
    return account.kind == "seller"


def _reads_transactions(account: AccountConfig) -> bool:
    """The 2024-06-19 operations apply to seller accounts whose event_source reads them."""
    return account.kind == "seller" and account.reads_transactions


external_specs = [
    dg.AssetSpec(
        SPAPI_FINANCES_V0,
        description="Finances v0: listFinancialEventGroups and listFinancialEventsByGroupId (event "
        "operations deprecated by Amazon; groups are not).",
        group_name=GROUP,
        kinds={"api"},
    ),
    dg.AssetSpec(
        SPAPI_FINANCES,
        description="Finances 2024-06-19: listTransactions, listBalances, listSummary (shows deferred "
        "money).",
        group_name=GROUP,
        kinds={"api"},
    ),
    dg.AssetSpec(
        SPAPI_TRANSFERS,
        description="Transfers 2024-06-01: listExpectedPayouts (DE, FR, IT, ES, SE, NL, PL, BE only).",
        group_name=GROUP,
        kinds={"api"},
    ),
]


class FinanceRunConfig(dg.Config):
    """How far each run re-reads: events post 3-5 days late, and re-reading weeks later can return more."""

    lookback_days: int = 14
    # The first run's backfill; Finances windows are at most 180 days, the client cuts longer ranges.
    history_days: int = 180


def _spec(key: dg.AssetKey, deps: list[dg.AssetKey], description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, deps=deps, description=description, group_name=GROUP, kinds={"parquet"})


def _archive(data: DataDirResource) -> tuple[Path, RawArchive]:
    paths = data.paths()
    return paths.lake, RawArchive(paths.raw)


@dg.multi_asset(
    specs=[
        _spec(
            FINANCIAL_EVENT_GROUPS,
            [SPAPI_FINANCES_V0],
            "Latest state of every financial event group, one row per group; partition account_id=<id>.",
        ),
        _spec(
            FINANCIAL_EVENT_GROUP_HISTORY,
            [SPAPI_FINANCES_V0],
            "One row per distinct state of a group "
            "(processing/fund transfer status, total), with when it was first and last seen.",
        ),
        _spec(
            FINANCIAL_EVENTS,
            [SPAPI_FINANCES_V0],
            "Every money component of the v0 events, one row per "
            "amount; partition account_id=<id>,group=<group id>.",
        ),
        _spec(
            FINANCIAL_EVENTS_UNKNOWN,
            [SPAPI_FINANCES_V0],
            "Catch-all: events of lists the model does not "
            "know, with their raw JSON (a warning check fires when it has rows).",
        ),
    ],
    can_subset=False,
    partitions_def=ACCOUNT_PARTITIONS,
)
def finances_v0(
    context: dg.AssetExecutionContext, config: FinanceRunConfig, spapi: SpApiResource, data: DataDirResource
) -> Iterator[dg.MaterializeResult]:
    lake, archive = _archive(data)
    run = run_accounts(context, spapi.accounts(), _seller)

    def land(account: AccountConfig) -> v0.V0Outcome:
        with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
            outcome = v0.land_v0(
                client,
                account,
                lake=lake,
                archive=archive,
                now=amazon_now(client),
                lookback_days=config.lookback_days,
                history_days=config.history_days,
            )
        context.log.info(
            f"{account.id}: {outcome.groups_listed} groups listed, {len(outcome.groups_read)} re-read, "
            f"{outcome.event_rows} event rows"
        )
        return outcome

    outcomes = [outcome for _, outcome in each_account(context, run, land)]
    finish_accounts(context, run, V0_KEYS)
    summary = {
        "accounts": dg.MetadataValue.json([asdict(o) for o in outcomes]),
        "lake_path": dg.MetadataValue.path(str(lake)),
        **run.metadata(),
    }
    yield lake_materialization(
        lake,
        FINANCIAL_EVENT_GROUPS,
        {**summary, "groups": sum(o.groups_listed for o in outcomes)},
    )
    yield lake_materialization(lake, FINANCIAL_EVENT_GROUP_HISTORY, {"lake_path": str(lake)})
    yield lake_materialization(
        lake,
        FINANCIAL_EVENTS,
        {
            "groups_read": sum(len(o.groups_read) for o in outcomes),
            "rows_read": sum(o.event_rows for o in outcomes),
        },
    )
    yield lake_materialization(
        lake, FINANCIAL_EVENTS_UNKNOWN, {"rows_read": sum(o.unknown_rows for o in outcomes)}
    )


@dg.multi_asset(
    specs=[
        _spec(
            TRANSACTIONS,
            [SPAPI_FINANCES],
            "One row per breakdown leaf of every transaction (current "
            "status, updated in place); partition account_id=<id>.",
        ),
        _spec(
            TRANSACTION_TOTALS,
            [SPAPI_FINANCES],
            "One row per transaction: its total and whether its counted leaves add up to it.",
        ),
        _spec(
            TRANSACTION_SUBTOTALS,
            [SPAPI_FINANCES],
            "Every non-leaf breakdown node and item total, with whether its children add up.",
        ),
        _spec(
            TRANSACTION_STATUS_HISTORY,
            [SPAPI_FINANCES],
            "One row per (transaction, status) with when ACORN first saw that status.",
        ),
        _spec(
            BALANCES,
            [SPAPI_FINANCES],
            "listBalances snapshots (every balance node, by type, marketplace "
            "and as-of time); a new snapshot only when a figure changed. Read right after the transactions "
            "so the DEFERRED balance and the deferred transactions describe the same moment.",
        ),
    ],
    can_subset=False,
    partitions_def=ACCOUNT_PARTITIONS,
)
def finances_transactions(
    context: dg.AssetExecutionContext, config: FinanceRunConfig, spapi: SpApiResource, data: DataDirResource
) -> Iterator[dg.MaterializeResult]:
    lake, archive = _archive(data)
    run = run_accounts(context, spapi.accounts(), _reads_transactions)

    def land(account: AccountConfig) -> tuple[tx.TransactionsOutcome, int]:
        with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
            now = amazon_now(client)
            outcome = tx.land_transactions(
                client,
                account,
                lake=lake,
                archive=archive,
                now=now,
                lookback_days=config.lookback_days,
                history_days=config.history_days,
            )
            balances = tx.land_balances(client, account, lake=lake, archive=archive, now=now)
        context.log.info(
            f"{account.id}: {outcome.transactions_seen} transactions read, {outcome.transactions_total} kept "
            f"({outcome.status_counts})"
        )
        return outcome, balances

    landed = [result for _, result in each_account(context, run, land)]
    finish_accounts(context, run, TRANSACTIONS_KEYS)
    outcomes = [outcome for outcome, _ in landed]
    balance_rows = sum(balances for _, balances in landed)
    yield lake_materialization(
        lake,
        TRANSACTIONS,
        {
            "accounts": dg.MetadataValue.json([asdict(o) for o in outcomes]),
            "leaf_rows": sum(o.leaf_rows for o in outcomes),
            "lake_path": dg.MetadataValue.path(str(lake)),
            **run.metadata(),
        },
    )
    yield lake_materialization(
        lake, TRANSACTION_TOTALS, {"transactions": sum(o.transactions_total for o in outcomes)}
    )
    yield lake_materialization(lake, TRANSACTION_SUBTOTALS, {"lake_path": str(lake)})
    yield lake_materialization(lake, TRANSACTION_STATUS_HISTORY, {"lake_path": str(lake)})
    yield lake_materialization(lake, BALANCES, {"rows_added": balance_rows})


@dg.multi_asset(
    specs=[
        _spec(
            SETTLEMENT_SUMMARIES,
            [SPAPI_FINANCES, LAKE_SETTLEMENTS, TRANSACTION_TOTALS],
            "listSummary by "
            "SETTLEMENT_ID: a settlement's net proceeds, once per settlement the lake knows of.",
        ),
        _spec(
            SETTLEMENT_SUMMARY_BREAKDOWNS,
            [SPAPI_FINANCES, LAKE_SETTLEMENTS, TRANSACTION_TOTALS],
            "Every breakdown node of each settlement summary.",
        ),
    ],
    can_subset=False,
    partitions_def=ACCOUNT_PARTITIONS,
)
def finances_settlement_summaries(
    context: dg.AssetExecutionContext, spapi: SpApiResource, data: DataDirResource
) -> Iterator[dg.MaterializeResult]:
    lake, archive = _archive(data)
    run = run_accounts(context, spapi.accounts(), _reads_transactions)

    def land(account: AccountConfig) -> int:
        with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
            # (inside the client: under the account's lock, the lake refreshed from the store in scale-out)
            settlement_ids = known_settlement_ids(lake, account.id)
            added = tx.land_settlement_summaries(client, account, settlement_ids, lake=lake, archive=archive)
        context.log.info(f"{account.id}: {len(settlement_ids)} settlements known")
        return added

    added = sum(count for _, count in each_account(context, run, land))
    finish_accounts(context, run, [SETTLEMENT_SUMMARIES, SETTLEMENT_SUMMARY_BREAKDOWNS])
    yield lake_materialization(lake, SETTLEMENT_SUMMARIES, {"summaries_added": added, **run.metadata()})
    yield lake_materialization(lake, SETTLEMENT_SUMMARY_BREAKDOWNS, {"lake_path": str(lake)})


@dg.asset(
    key=EXPECTED_PAYOUTS,
    deps=[SPAPI_TRANSFERS],
    description="The payouts Amazon states it will make (listExpectedPayouts, EU marketplaces), as of the "
    "latest run; partition account_id=<id>.",
    group_name=GROUP,
    kinds={"parquet"},
    partitions_def=ACCOUNT_PARTITIONS,
)
def finances_expected_payouts(
    context: dg.AssetExecutionContext, spapi: SpApiResource, data: DataDirResource
) -> dg.MaterializeResult:
    lake, archive = _archive(data)
    run = run_accounts(context, spapi.accounts(), _reads_transactions)

    def land(account: AccountConfig) -> int | None:
        with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
            return tx.land_expected_payouts(client, account, lake=lake, archive=archive)

    rows = {
        account.id: written for account, written in each_account(context, run, land) if written is not None
    }
    finish_accounts(context, run, [EXPECTED_PAYOUTS])
    return lake_materialization(
        lake, EXPECTED_PAYOUTS, {"rows_by_account": dg.MetadataValue.json(rows), **run.metadata()}
    )


def known_settlement_ids(lake: Path, account_id: str) -> list[str]:
    """Settlement ids the lake knows for an account: from its settlement reports and its transactions."""
    sources = [("settlements", "settlement_id"), (tx.TRANSACTIONS, "settlement_id")]
    found: set[str] = set()
    with duckdb.connect() as connection:
        for dataset, column in sources:
            if not register(connection, lake, dataset, "lake_rows"):
                continue
            rows = connection.execute(
                f"select distinct {column} from lake_rows where account_id = ? and {column} is not null",
                [account_id],
            ).fetchall()
            found.update(str(row[0]) for row in rows)
    return sorted(found)
