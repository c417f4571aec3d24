"""`acorn vendor check-invoice`: a correct draft passes (exit 0); each fault is named with its item line and field
(exit 1); a file that is not an invoice exits 2. The lake is a small real one (Parquet written with the lake's own
schemas), read by the real command through click."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner, Result

from acorn_cli.main import cli
from lake.partitions import write_partition
from transforms.vendor_invoices import VENDOR_INVOICE_LINES_SCHEMA, VENDOR_INVOICES_SCHEMA
from transforms.vendor_orders import VENDOR_PO_ITEM_STATUS_SCHEMA, VENDOR_PO_ITEMS_SCHEMA

PO = "PO7XK2QA"
WHEN = datetime(2026, 10, 1, tzinfo=UTC)
# Two PO lines: A1 received 10, 4 already invoiced (PAID): 6 open; A2 received 6, invoiced only on a REJECTED
# invoice (which does not count): 6 open.
LINES = (
    ("1", "B0A1000001", "4000000000011", Decimal("10.00"), 10),
    ("2", "B0A2000002", "4000000000028", Decimal("5.50"), 6),
)


def _write(lake: Path, dataset: str, schema: pa.Schema, rows: list[dict[str, Any]]) -> None:
    full = [{name: row.get(name) for name in schema.names} for row in rows]
    write_partition(lake, dataset, "account_id=demo-vendor,x=1", pa.Table.from_pylist(full, schema=schema))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check_invoice")
    lake = root / "lake"
    base = {"account_id": "demo-vendor", "purchase_order_number": PO, "order_index": 0, "source_sha256": "x"}
    _write(
        lake,
        "vendor_po_items",
        VENDOR_PO_ITEMS_SCHEMA,
        [
            {
                **base,
                "item_sequence_number": seq,
                "amazon_product_identifier": asin,
                "vendor_product_identifier": ean,
                "net_cost": cost,
                "net_cost_currency": "USD",
                "ordered_quantity": received,
                "ordered_quantity_eaches": received,
            }
            for seq, asin, ean, cost, received in LINES
        ],
    )
    _write(
        lake,
        "vendor_po_item_status",
        VENDOR_PO_ITEM_STATUS_SCHEMA,
        [
            {
                **base,
                "item_sequence_number": seq,
                "buyer_product_identifier": asin,
                "received_quantity": received,
                "received_quantity_eaches": received,
            }
            for seq, asin, _, _, received in LINES
        ],
    )
    invoice = {
        "account_id": "demo-vendor",
        "marketplace_id": "ATVPDKIKX0DER",
        "source_sha256": "x",
        "issued_at": WHEN,
    }
    _write(
        lake,
        "vendor_invoices",
        VENDOR_INVOICES_SCHEMA,
        [
            {
                **invoice,
                "invoice_identifier": "INV-OLD~DEMOV",
                "invoice_number": "INV-OLD",
                "invoice_status": "PAID",
            },
            {
                **invoice,
                "invoice_identifier": "INV-REJ~DEMOV",
                "invoice_number": "INV-REJ",
                "invoice_status": "REJECTED",
            },
        ],
    )
    line = {"account_id": "demo-vendor", "purchase_order_id": PO, "source_sha256": "x", "is_matched": False}
    _write(
        lake,
        "vendor_invoice_lines",
        VENDOR_INVOICE_LINES_SCHEMA,
        [
            {
                **line,
                "invoice_identifier": "INV-OLD~DEMOV",
                "line_item_id": "1",
                "asin": "B0A1000001",
                "quantity": 4,
            },
            {
                **line,
                "invoice_identifier": "INV-REJ~DEMOV",
                "line_item_id": "1",
                "asin": "B0A2000002",
                "quantity": 6,
            },
        ],
    )
    return root


def _draft(**changes: Any) -> dict[str, Any]:
    items = [
        {
            "itemSequenceNumber": 1,
            "purchaseOrderNumber": PO,
            "amazonProductIdentifier": "B0A1000001",
            "invoicedQuantity": {"amount": 6, "unitOfMeasure": "Eaches"},
            "netCost": {"currencyCode": "USD", "amount": "10.00"},
        },
        {
            "itemSequenceNumber": 2,
            "purchaseOrderNumber": PO,
            "amazonProductIdentifier": "B0A2000002",
            "invoicedQuantity": {"amount": 6, "unitOfMeasure": "Eaches"},
            "netCost": {"currencyCode": "USD", "amount": "5.5"},
        },
    ]
    invoice = {
        "invoiceType": "Invoice",
        "id": "INV-NEW-1",
        "date": "2026-11-20T00:00:00Z",
        "remitToParty": {"partyId": "DEMOV"},
        "invoiceTotal": {"currencyCode": "USD", "amount": "93.00"},
        "items": items,
    }
    for key, value in changes.items():
        if key.startswith("item2_"):
            items[1][key[6:]] = value
        else:
            invoice[key] = value
    return {"invoices": [invoice]}


def _check(data_dir: Path, tmp_path: Path, document: Any, *extra: str) -> Result:
    path = tmp_path / "draft.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return CliRunner().invoke(
        cli, ["vendor", "check-invoice", str(path), *extra], env={"ACORN_DATA_DIR": str(data_dir)}
    )


def test_a_correct_invoice_passes(data_dir: Path, tmp_path: Path) -> None:
    result = _check(data_dir, tmp_path, _draft())
    assert result.exit_code == 0, result.output
    assert "would pass" in result.output


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"item2_purchaseOrderNumber": PO.lower()}, "item line 2 purchaseOrderNumber", "differs in case"),
        ({"item2_amazonProductIdentifier": "B0NOTONPO9"}, "item line 2 amazonProductIdentifier", "not on PO"),
        (
            {"item2_invoicedQuantity": {"amount": 7, "unitOfMeasure": "Eaches"}},
            "item line 2 invoicedQuantity",
            "exceeds",
        ),
        (
            {"item2_netCost": {"currencyCode": "USD", "amount": "5.75"}},
            "item line 2 netCost",
            "differs from the PO's net cost 5.5",
        ),
        (
            {"item2_netCost": {"currencyCode": "EUR", "amount": "5.50"}},
            "item line 2 netCost.currencyCode",
            "EUR differs",
        ),
        ({"billToParty": {"partyId": "AMZN_DE", "address": {"countryCode": "DE"}}}, "taxDetails", "missing"),
        ({"id": "INV-OLD"}, "id", "used before"),
    ],
    ids=["po-case", "item-not-on-po", "quantity", "net-cost", "currency", "tax", "duplicate-number"],
)
def test_each_fault_is_named(data_dir: Path, tmp_path: Path, changes: dict, field: str, words: str) -> None:
    result = _check(data_dir, tmp_path, _draft(**changes))
    assert result.exit_code == 1, result.output
    problems = result.output.strip().splitlines()
    assert len(problems) == 1, problems
    assert field in problems[0] and words in problems[0]


def test_json_output_and_not_an_invoice(data_dir: Path, tmp_path: Path) -> None:
    result = _check(data_dir, tmp_path, _draft(id="INV-OLD", item2_purchaseOrderNumber=PO.lower()), "--json")
    body = json.loads(result.output)
    assert result.exit_code == 1 and body["passes"] is False
    assert {(p["item"], p["field"]) for p in body["problems"]} == {(None, "id"), (2, "purchaseOrderNumber")}
    assert _check(data_dir, tmp_path, {"orders": []}).exit_code == 2
    assert _check(data_dir, tmp_path, "not json").exit_code == 2
