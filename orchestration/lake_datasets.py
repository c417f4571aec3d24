"""The lake datasets the finance and vendor domains write, with their Arrow schemas (owned by the transforms).

The warehouse registers a view per dataset (orchestration/warehouse/lake_views.py), empty when nothing has
landed yet, so the dbt models read the same relations on a fresh data dir as after a year of runs.
"""

from __future__ import annotations

import pyarrow as pa

from orchestration.finances import transactions_landing as tx
from orchestration.finances import v0_landing as v0
from orchestration.vendor_orders import invoices_landing as invoices
from orchestration.vendor_orders import landing as vendor
from transforms.finances.balances import BALANCES_SCHEMA
from transforms.finances.event_groups import (
    FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA,
    FINANCIAL_EVENT_GROUPS_SCHEMA,
)
from transforms.finances.expected_payouts import EXPECTED_PAYOUTS_SCHEMA
from transforms.finances.settlement_summaries import (
    SETTLEMENT_SUMMARIES_SCHEMA,
    SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA,
)
from transforms.finances.transactions import (
    TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA,
    TRANSACTION_STATUS_HISTORY_SCHEMA,
    TRANSACTION_TOTALS_SCHEMA,
    TRANSACTIONS_SCHEMA,
)
from transforms.finances.v0_events import FINANCIAL_EVENTS_SCHEMA, FINANCIAL_EVENTS_UNKNOWN_SCHEMA
from transforms.vendor_invoices import (
    VENDOR_INVOICE_LINES_SCHEMA,
    VENDOR_INVOICE_STATUS_HISTORY_SCHEMA,
    VENDOR_INVOICES_SCHEMA,
    VENDOR_SHIPMENT_ITEMS_SCHEMA,
)
from transforms.vendor_orders import (
    VENDOR_PO_HEADERS_SCHEMA,
    VENDOR_PO_ITEM_STATUS_SCHEMA,
    VENDOR_PO_ITEMS_SCHEMA,
)


def finance_lake_datasets() -> dict[str, pa.Schema]:
    return {
        v0.GROUPS: FINANCIAL_EVENT_GROUPS_SCHEMA,
        v0.GROUP_HISTORY: FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA,
        v0.EVENTS: FINANCIAL_EVENTS_SCHEMA,
        v0.EVENTS_UNKNOWN: FINANCIAL_EVENTS_UNKNOWN_SCHEMA,
        tx.TRANSACTIONS: TRANSACTIONS_SCHEMA,
        tx.TRANSACTION_TOTALS: TRANSACTION_TOTALS_SCHEMA,
        tx.TRANSACTION_SUBTOTALS: TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA,
        tx.TRANSACTION_STATUS_HISTORY: TRANSACTION_STATUS_HISTORY_SCHEMA,
        tx.BALANCES: BALANCES_SCHEMA,
        tx.SETTLEMENT_SUMMARIES: SETTLEMENT_SUMMARIES_SCHEMA,
        tx.SETTLEMENT_SUMMARY_BREAKDOWNS: SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA,
        tx.EXPECTED_PAYOUTS: EXPECTED_PAYOUTS_SCHEMA,
        vendor.HEADERS: VENDOR_PO_HEADERS_SCHEMA,
        vendor.ITEMS: VENDOR_PO_ITEMS_SCHEMA,
        vendor.ITEM_STATUS: VENDOR_PO_ITEM_STATUS_SCHEMA,
        invoices.INVOICES: VENDOR_INVOICES_SCHEMA,
        invoices.INVOICE_LINES: VENDOR_INVOICE_LINES_SCHEMA,
        invoices.INVOICE_STATUS_HISTORY: VENDOR_INVOICE_STATUS_HISTORY_SCHEMA,
        invoices.SHIPMENT_ITEMS: VENDOR_SHIPMENT_ITEMS_SCHEMA,
    }
