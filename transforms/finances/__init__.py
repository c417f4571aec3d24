"""Finance payloads (Finances v0, Finances 2024-06-19, Transfers 2024-06-01) as typed Arrow tables.

Pure functions, no I/O and no Dagster: the orchestration layer passes parsed bodies in and writes the tables.
Table schemas are documented in README.md beside this file.
"""

from transforms.finances.balances import BALANCES_SCHEMA, balances_table
from transforms.finances.errors import (
    FinancePayloadError,
    MoneyFormatError,
    MoneyPrecisionError,
    PayloadShapeError,
    TimestampFormatError,
)
from transforms.finances.event_groups import (
    FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA,
    FINANCIAL_EVENT_GROUPS_SCHEMA,
    financial_event_groups_table,
    merge_event_groups,
)
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
    TransactionMerge,
    TransactionTables,
    merge_transactions,
    replace_by_transaction,
    transactions_tables,
)
from transforms.finances.v0_events import (
    FINANCIAL_EVENTS_SCHEMA,
    FINANCIAL_EVENTS_UNKNOWN_SCHEMA,
    financial_events_tables,
)

__all__ = [
    "BALANCES_SCHEMA",
    "EXPECTED_PAYOUTS_SCHEMA",
    "FINANCIAL_EVENTS_SCHEMA",
    "FINANCIAL_EVENTS_UNKNOWN_SCHEMA",
    "FINANCIAL_EVENT_GROUPS_SCHEMA",
    "FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA",
    "SETTLEMENT_SUMMARIES_SCHEMA",
    "SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA",
    "TRANSACTIONS_SCHEMA",
    "TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA",
    "TRANSACTION_STATUS_HISTORY_SCHEMA",
    "TRANSACTION_TOTALS_SCHEMA",
    "FinancePayloadError",
    "MoneyFormatError",
    "MoneyPrecisionError",
    "PayloadShapeError",
    "TimestampFormatError",
    "TransactionMerge",
    "TransactionTables",
    "balances_table",
    "expected_payouts_table",
    "financial_event_groups_table",
    "financial_events_tables",
    "merge_event_groups",
    "merge_transactions",
    "replace_by_transaction",
    "settlement_summaries_tables",
    "transactions_tables",
]
