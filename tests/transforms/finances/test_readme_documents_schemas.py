"""Every column of every exported schema is documented, with its type, in the package READMEs."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

import transforms.finances as finances
import transforms.vendor_orders as vendor_orders

TABLES = {
    "financial_event_groups": finances.FINANCIAL_EVENT_GROUPS_SCHEMA,
    "financial_event_group_history": finances.FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA,
    "financial_events": finances.FINANCIAL_EVENTS_SCHEMA,
    "financial_events_unknown": finances.FINANCIAL_EVENTS_UNKNOWN_SCHEMA,
    "transactions": finances.TRANSACTIONS_SCHEMA,
    "transaction_totals": finances.TRANSACTION_TOTALS_SCHEMA,
    "transaction_breakdown_subtotals": finances.TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA,
    "transaction_status_history": finances.TRANSACTION_STATUS_HISTORY_SCHEMA,
    "balances": finances.BALANCES_SCHEMA,
    "settlement_summaries": finances.SETTLEMENT_SUMMARIES_SCHEMA,
    "settlement_summary_breakdowns": finances.SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA,
    "expected_payouts": finances.EXPECTED_PAYOUTS_SCHEMA,
    "vendor_po_headers": vendor_orders.VENDOR_PO_HEADERS_SCHEMA,
    "vendor_po_items": vendor_orders.VENDOR_PO_ITEMS_SCHEMA,
    "vendor_po_item_status": vendor_orders.VENDOR_PO_ITEM_STATUS_SCHEMA,
}


def _documented(name: str) -> dict[str, str]:
    package = vendor_orders if name.startswith("vendor_") else finances
    readme = (Path(package.__file__).parent / "README.md").read_text(encoding="utf-8")
    section = readme.split(f"### `{name}`\n", 1)[1].split("\n### ", 1)[0]
    return dict(re.findall(r"^\| `([a-z0-9_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE))


def _readme_type(field: pa.Field) -> str:
    if pa.types.is_timestamp(field.type):
        return "timestamp UTC"
    if pa.types.is_decimal(field.type):
        return f"decimal({field.type.precision},{field.type.scale})"
    return {"string": "string", "bool": "bool", "int32": "int32", "int64": "int64"}[str(field.type)]


@pytest.mark.parametrize("name", sorted(TABLES))
def test_readme_documents_every_column_with_its_type(name):
    documented = _documented(name)
    schema = TABLES[name]
    assert list(documented) == schema.names
    for field in schema:
        text = documented[field.name]
        if "as in" in text:
            continue
        assert text.startswith(_readme_type(field)), field.name
        assert ("not null" in text) == (not field.nullable), field.name
