"""Finances 2024-06-19 into the lake: transactions (updated in place), balances, settlement summaries, and the
Transfers 2024-06-01 expected payouts.

Lake layout (one partition per account, `account_id=<id>/`, because a transaction whose status changes is
replaced wherever it was; a year of a busy seller's leaves still fits one file comfortably):
- `transactions`: one row per breakdown leaf, current status;
- `transaction_totals`, `transaction_breakdown_subtotals`: per transaction, and per breakdown node;
- `transaction_status_history`: one row per (transaction, status) with when ACORN first saw it;
- `balances`: listBalances snapshots, a new snapshot only when a figure changed;
- `settlement_summaries`, `settlement_summary_breakdowns`: listSummary per settlement id, read once each;
- `expected_payouts`: the payouts Amazon states as of the latest run (EU marketplaces only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from lake.partitions import drop_unchanged, partition_name, read_partition, write_partition
from orchestration.finances.selection import DEFERRED_STATUS, transactions_start
from orchestration.raw_pages import archive_page
from spapi.calls import FinancesCalls
from spapi.config import AccountConfig
from spapi.windows import finances_windows
from transforms.archive import RawArchive
from transforms.finances.balances import BALANCES_SCHEMA, balances_table
from transforms.finances.expected_payouts import EXPECTED_PAYOUTS_SCHEMA, expected_payouts_table
from transforms.finances.settlement_summaries import (
    SETTLEMENT_SUMMARIES_SCHEMA,
    SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA,
    settlement_summaries_tables,
)
from transforms.finances.transactions import (
    TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA,
    TRANSACTION_STATUS_HISTORY_SCHEMA,
    TRANSACTION_TOTALS_SCHEMA,
    TRANSACTIONS_SCHEMA,
    merge_transactions,
    replace_by_transaction,
    transactions_tables,
)

TRANSACTIONS = "transactions"
TRANSACTION_TOTALS = "transaction_totals"
TRANSACTION_SUBTOTALS = "transaction_breakdown_subtotals"
TRANSACTION_STATUS_HISTORY = "transaction_status_history"
BALANCES = "balances"
SETTLEMENT_SUMMARIES = "settlement_summaries"
SETTLEMENT_SUMMARY_BREAKDOWNS = "settlement_summary_breakdowns"
EXPECTED_PAYOUTS = "expected_payouts"

# Transfers 2024-06-01 listExpectedPayouts serves these marketplaces only: DE, FR, IT, ES, SE, NL, PL, BE.
EXPECTED_PAYOUT_MARKETPLACES = frozenset(
    {
        "A1PA6795UKMFR9",
        "A13V1IB3VIYZZH",
        "APJ6JRA9NG5V4",
        "A1RKKUPIHCS9HS",
        "A2NODRKZP88ZB9",
        "A1805IZSGTT6HS",
        "A1C3SOZRARQ6R3",
        "AMEN7PMS3EDWL",
    }
)

TRANSACTION_KEY = ("account_id", "transaction_id")
TRANSACTION_SORT = ("account_id", "transaction_id", "leaf_index")
TOTALS_SORT = ("account_id", "transaction_id")
SUBTOTALS_SORT = ("account_id", "transaction_id", "amount_key")
HISTORY_SORT = ("account_id", "transaction_id", "first_observed_at", "transaction_status")
BALANCE_SORT = ("account_id", "as_of", "marketplace_id", "balance_index")
SUMMARY_SORT = ("account_id", "settlement_id", "summary_index")
SUMMARY_BREAKDOWN_SORT = ("account_id", "settlement_id", "summary_index", "node_index")
EXPECTED_PAYOUT_SORT = ("account_id", "marketplace_id", "scheduled_at", "payout_index")


@dataclass
class TransactionsOutcome:
    account_id: str
    windows: list[str] = field(default_factory=list)
    pages: int = 0
    transactions_seen: int = 0
    transactions_total: int = 0
    leaf_rows: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    partitions_changed: int = 0


def account_partition(account_id: str) -> str:
    return partition_name(account_id=account_id)


def _concat(tables: Iterable[pa.Table], schema: pa.Schema) -> pa.Table:
    parts = [table.cast(schema) for table in tables]
    return pa.concat_tables(parts) if parts else schema.empty_table()


def land_transactions(
    client: FinancesCalls,
    account: AccountConfig,
    *,
    lake: Path,
    archive: RawArchive,
    now: datetime,
    lookback_days: int,
    history_days: int,
) -> TransactionsOutcome:
    """Read the account's posted-date windows and merge what they return into the lake, in place."""
    outcome = TransactionsOutcome(account.id)
    partition = account_partition(account.id)
    current = read_partition(lake, TRANSACTIONS, partition, TRANSACTIONS_SCHEMA)
    totals = read_partition(lake, TRANSACTION_TOTALS, partition, TRANSACTION_TOTALS_SCHEMA)
    start = transactions_start(
        newest_posted_at=_newest(totals, "posted_at"),
        oldest_deferred_posted_at=_oldest_deferred(totals),
        now=now,
        lookback_days=lookback_days,
        history_days=history_days,
    )
    leaves: list[pa.Table] = []
    page_totals: list[pa.Table] = []
    subtotals: list[pa.Table] = []
    for window in finances_windows(start, None, now=now):
        outcome.windows.append(f"{window.start.isoformat()}/{window.end.isoformat()}")
        pages = client.iter_transactions(posted_after=window.start, posted_before=window.end)
        for page in pages:
            sha = archive_page(archive, page, account_id=account.id)
            outcome.pages += 1
            tables = transactions_tables(page.body, account_id=account.id, source_sha256=sha)
            leaves.append(tables.transactions)
            page_totals.append(tables.transaction_totals)
            subtotals.append(tables.transaction_breakdown_subtotals)
    new_leaves = _concat(leaves, TRANSACTIONS_SCHEMA)
    new_totals = _concat(page_totals, TRANSACTION_TOTALS_SCHEMA)
    new_subtotals = _concat(subtotals, TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA)
    outcome.transactions_seen = new_totals.num_rows
    # Transactions re-read exactly as stored keep their stored rows (and so the partition's bytes).
    changed = _keys(drop_unchanged(current, new_leaves, TRANSACTION_KEY)) | _keys(
        drop_unchanged(totals, new_totals, TRANSACTION_KEY)
    )
    new_leaves, new_totals, new_subtotals = (
        _only(table, changed) for table in (new_leaves, new_totals, new_subtotals)
    )

    history = read_partition(lake, TRANSACTION_STATUS_HISTORY, partition, TRANSACTION_STATUS_HISTORY_SCHEMA)
    if new_leaves.num_rows == 0:
        # Nothing new or changed: the stored tables stay exactly as they are.
        outcome.transactions_total = 0 if totals is None else totals.num_rows
        outcome.leaf_rows = 0 if current is None else current.num_rows
        outcome.status_counts = _status_counts(totals)
        return outcome
    merged = merge_transactions(current, new_leaves, now, existing_history=history)
    merged_totals = replace_by_transaction(totals, new_totals) if new_totals.num_rows else totals
    existing_subtotals = read_partition(
        lake, TRANSACTION_SUBTOTALS, partition, TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA
    )
    merged_subtotals = _replace_subtotals(existing_subtotals, new_subtotals, new_totals)

    for dataset, table, keys in (
        (TRANSACTIONS, merged.transactions, TRANSACTION_SORT),
        (TRANSACTION_TOTALS, merged_totals, TOTALS_SORT),
        (TRANSACTION_SUBTOTALS, merged_subtotals, SUBTOTALS_SORT),
        (TRANSACTION_STATUS_HISTORY, merged.transaction_status_history, HISTORY_SORT),
    ):
        if table is None:
            continue
        written = write_partition(lake, dataset, partition, table, sort_keys=keys)
        outcome.partitions_changed += int(written.changed)
    outcome.transactions_total = 0 if merged_totals is None else merged_totals.num_rows
    outcome.leaf_rows = merged.transactions.num_rows
    outcome.status_counts = _status_counts(merged_totals)
    return outcome


def _status_counts(totals: pa.Table | None) -> dict[str, int]:
    if totals is None or totals.num_rows == 0:
        return {}
    return {
        str(entry["values"]): int(entry["counts"])
        for entry in pc.value_counts(totals["transaction_status"]).to_pylist()
    }


def _key_array(table: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(table["account_id"], table["transaction_id"], "\x1f")


def _keys(table: pa.Table) -> set[str]:
    return set(_key_array(table).to_pylist())


def _only(table: pa.Table, keys: set[str]) -> pa.Table:
    return table.filter(pc.is_in(_key_array(table), value_set=pa.array(sorted(keys), type=pa.string())))


def _replace_subtotals(existing: pa.Table | None, new: pa.Table, new_totals: pa.Table) -> pa.Table | None:
    """Subtotals of every transaction seen this run replaced, including those that now have none."""
    if existing is None and new.num_rows == 0:
        return None
    if existing is None or existing.num_rows == 0:
        return new
    seen = _key_array(new_totals)
    kept = existing.filter(pc.invert(pc.is_in(_key_array(existing), value_set=seen)))
    return pa.concat_tables([kept, new.cast(existing.schema)])


def _newest(table: pa.Table | None, column: str) -> datetime | None:
    if table is None or table.num_rows == 0:
        return None
    value = pc.max(table[column]).as_py()
    return value if isinstance(value, datetime) else None


def _oldest_deferred(totals: pa.Table | None) -> datetime | None:
    if totals is None or totals.num_rows == 0:
        return None
    deferred = totals.filter(pc.equal(totals["transaction_status"], DEFERRED_STATUS))
    if deferred.num_rows == 0:
        return None
    value = pc.min(deferred["posted_at"]).as_py()
    return value if isinstance(value, datetime) else None


def land_balances(
    client: FinancesCalls, account: AccountConfig, *, lake: Path, archive: RawArchive, now: datetime
) -> int:
    """Add the current listBalances snapshot unless every figure equals the latest one kept; rows added."""
    new_parts = []
    for page in client.list_balances():
        sha = archive_page(archive, page, account_id=account.id)
        new_parts.append(balances_table(page.body, account_id=account.id, source_sha256=sha, as_of=now))
    snapshot = _concat(new_parts, BALANCES_SCHEMA)
    partition = account_partition(account.id)
    existing = read_partition(lake, BALANCES, partition, BALANCES_SCHEMA)
    if snapshot.num_rows == 0 or _same_figures(_latest_snapshot(existing), snapshot):
        return 0
    merged = snapshot if existing is None else pa.concat_tables([existing, snapshot])
    write_partition(lake, BALANCES, partition, merged, sort_keys=BALANCE_SORT)
    return snapshot.num_rows


_FIGURES = ("marketplace_id", "balance_path", "amount", "currency")


def _latest_snapshot(existing: pa.Table | None) -> pa.Table | None:
    if existing is None or existing.num_rows == 0:
        return None
    latest = pc.max(existing["as_of"])
    return existing.filter(pc.equal(existing["as_of"], latest))


def _same_figures(before: pa.Table | None, after: pa.Table) -> bool:
    if before is None:
        return False
    return sorted(map(repr, before.select(_FIGURES).to_pylist())) == sorted(
        map(repr, after.select(_FIGURES).to_pylist())
    )


def land_settlement_summaries(
    client: FinancesCalls,
    account: AccountConfig,
    settlement_ids: Iterable[str],
    *,
    lake: Path,
    archive: RawArchive,
) -> int:
    """listSummary for each settlement id not summarised yet (a closed settlement's summary never changes)."""
    partition = account_partition(account.id)
    summaries = read_partition(lake, SETTLEMENT_SUMMARIES, partition, SETTLEMENT_SUMMARIES_SCHEMA)
    breakdowns = read_partition(
        lake, SETTLEMENT_SUMMARY_BREAKDOWNS, partition, SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA
    )
    known = set() if summaries is None else {s for s in summaries["settlement_id"].to_pylist() if s}
    new_summaries, new_breakdowns = [], []
    for settlement_id in sorted(set(settlement_ids) - known):
        for page in client.list_summary(settlement_id=settlement_id):
            sha = archive_page(archive, page, account_id=account.id)
            summary, nodes = settlement_summaries_tables(
                page.body, account_id=account.id, source_sha256=sha, settlement_id=settlement_id
            )
            new_summaries.append(summary)
            new_breakdowns.append(nodes)
    if not new_summaries:
        return 0
    added = _concat(new_summaries, SETTLEMENT_SUMMARIES_SCHEMA)
    merged = pa.concat_tables([t for t in (summaries, added) if t is not None])
    merged_nodes = pa.concat_tables(
        [
            t
            for t in (breakdowns, _concat(new_breakdowns, SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA))
            if t is not None
        ]
    )
    write_partition(lake, SETTLEMENT_SUMMARIES, partition, merged, sort_keys=SUMMARY_SORT)
    write_partition(
        lake, SETTLEMENT_SUMMARY_BREAKDOWNS, partition, merged_nodes, sort_keys=SUMMARY_BREAKDOWN_SORT
    )
    return added.num_rows


def land_expected_payouts(
    client: FinancesCalls, account: AccountConfig, *, lake: Path, archive: RawArchive
) -> int | None:
    """Replace the account's expected payouts with what Amazon states now; None when none is served."""
    marketplaces = sorted(m for m in account.marketplaces if m in EXPECTED_PAYOUT_MARKETPLACES)
    if not marketplaces:
        return None
    parts = []
    for marketplace_id in marketplaces:
        for page in client.iter_expected_payouts(marketplace_id=marketplace_id):
            sha = archive_page(archive, page, account_id=account.id)
            table = expected_payouts_table(page.body, account_id=account.id, source_sha256=sha)
            # The response need not repeat the marketplace asked for; the request names it.
            if table.num_rows:
                filled = pc.fill_null(table["marketplace_id"], marketplace_id)
                table = table.set_column(
                    table.schema.get_field_index("marketplace_id"), "marketplace_id", filled
                )
            parts.append(table)
    payouts = _concat(parts, EXPECTED_PAYOUTS_SCHEMA)
    write_partition(
        lake, EXPECTED_PAYOUTS, account_partition(account.id), payouts, sort_keys=EXPECTED_PAYOUT_SORT
    )
    return payouts.num_rows
