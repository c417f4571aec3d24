"""The older flat file (price-type, item-related-fee-type, an amount column each) unpivots into V2 lines."""

from __future__ import annotations

from decimal import Decimal

from transforms.settlement import parse_settlement
from transforms.settlement.headers import V1_HEADER


def v1_file(rows: list[dict[str, str]], total: str) -> str:
    summary = {
        "settlement-id": "555",
        "settlement-start-date": "2023-01-01 00:00:00 UTC",
        "settlement-end-date": "2023-01-15 00:00:00 UTC",
        "deposit-date": "2023-01-17 00:00:00 UTC",
        "total-amount": total,
        "currency": "USD",
    }
    base = {
        "settlement-id": "555",
        "posted-date": "2023-01-03 10:00:00 UTC",
        "marketplace-name": "Amazon.com",
    }
    lines = [summary, *({**base, **row} for row in rows)]
    return (
        "\n".join(["\t".join(V1_HEADER), *("\t".join(r.get(c, "") for c in V1_HEADER) for r in lines)]) + "\n"
    )


def is_fee(line: dict) -> bool:
    """The fee rule (ItemFees, Shipment-Fees, ServiceFee), written out independently of the code under test."""
    return line["amount_type"] in ("ItemFees", "Shipment-Fees") or line["transaction_type"] == "ServiceFee"


def test_every_amount_column_becomes_a_line_with_its_v2_amount_type(write_file) -> None:
    order = {
        "transaction-type": "Order",
        "order-id": "111-1",
        "sku": "SKU-1",
        "quantity-purchased": "2",
        "price-type": "Principal",
        "price-amount": "19.99",
        "item-related-fee-type": "Commission",
        "item-related-fee-amount": "-3.00",
        "shipment-fee-type": "FBA transportation fee",
        "shipment-fee-amount": "-1.10",
        "order-fee-type": "Gift wrap chargeback",
        "order-fee-amount": "-0.50",
        "misc-fee-amount": "-0.25",
        "other-fee-amount": "-0.40",
        "other-fee-reason-description": "TaxAmount",
        "promotion-id": "PROMO1",
        "promotion-type": "Shipping",
        "promotion-amount": "-2.00",
        "direct-payment-type": "StorefrontCredit",
        "direct-payment-amount": "1.00",
        "other-amount": "0.30",
    }
    service = {"transaction-type": "Subscription Fee", "other-amount": "-39.99"}
    parsed = parse_settlement(write_file(v1_file([order, service], total="-25.95")))
    assert parsed.layout == "flat_file" and parsed.is_reconciled
    got = [
        (r["source_line"], r["amount_type"], r["amount_description"], r["amount"])
        for r in parsed.lines.to_pylist()
    ]
    assert got == [
        (3, "ItemPrice", "Principal", Decimal("19.99")),
        (3, "ItemFees", "Commission", Decimal("-3.00")),
        (3, "Shipment-Fees", "FBA transportation fee", Decimal("-1.10")),
        (3, "ItemFees", "Gift wrap chargeback", Decimal("-0.50")),
        (3, "ItemFees", "MiscFee", Decimal("-0.25")),
        (3, "ItemFees", "TaxAmount", Decimal("-0.40")),
        (3, "Promotion", "Shipping", Decimal("-2.00")),
        (3, "other-transaction", "StorefrontCredit", Decimal("1.00")),
        (3, "other-transaction", "Order", Decimal("0.30")),
        (4, "other-transaction", "Subscription Fee", Decimal("-39.99")),
    ]
    assert parsed.lines.column("line_number").to_pylist() == list(range(1, 11))
    first = parsed.lines.to_pylist()[0]
    assert (first["sku"], first["quantity"], first["promotion_id"], first["currency"]) == (
        "SKU-1",
        2,
        "PROMO1",
        "USD",
    )


def test_fee_rule_classifies_both_layouts_alike(v2, write_file) -> None:
    # The same order in both layouts: a principal, a commission, an FBA fee and a shipment-level fee.
    v1 = v1_file(
        [
            {
                "transaction-type": "Order",
                "price-type": "Principal",
                "price-amount": "20.00",
                "item-related-fee-type": "Commission",
                "item-related-fee-amount": "-3.00",
            },
            {
                "transaction-type": "Order",
                "item-related-fee-type": "FBAPerUnitFulfillmentFee",
                "item-related-fee-amount": "-4.00",
            },
            {
                "transaction-type": "Order",
                "shipment-fee-type": "FBAPerOrderFulfillmentFee",
                "shipment-fee-amount": "-1.00",
            },
            {
                "transaction-type": "ServiceFee",
                "item-related-fee-type": "Cost of Advertising",
                "other-fee-amount": "-5.00",
            },
        ],
        total="7.00",
    )
    v2_lines = [
        v2.line("20.00"),
        v2.line("-3.00", **{"amount-type": "ItemFees", "amount-description": "Commission"}),
        v2.line("-4.00", **{"amount-type": "ItemFees", "amount-description": "FBAPerUnitFulfillmentFee"}),
        v2.line(
            "-1.00", **{"amount-type": "Shipment-Fees", "amount-description": "FBAPerOrderFulfillmentFee"}
        ),
        v2.line(
            "-5.00",
            **{
                "transaction-type": "ServiceFee",
                "amount-type": "other-transaction",
                "amount-description": "Cost of Advertising",
            },
        ),
    ]
    old = parse_settlement(write_file(v1))
    new = parse_settlement(write_file(v2.render(v2_lines, total="7.00")))
    fees_old = sorted(r["amount"] for r in old.lines.to_pylist() if is_fee(r))
    fees_new = sorted(r["amount"] for r in new.lines.to_pylist() if is_fee(r))
    assert fees_old == fees_new == [Decimal("-5.00"), Decimal("-4.00"), Decimal("-3.00"), Decimal("-1.00")]


def test_thirty_three_column_files_without_promotion_columns(write_file) -> None:
    header = [c for c in V1_HEADER if not c.startswith("promotion-")]
    text = v1_file([{"transaction-type": "Order", "price-type": "Principal", "price-amount": "9.99"}], "9.99")
    rows = [line.split("\t") for line in text.splitlines()]
    keep = [i for i, c in enumerate(V1_HEADER) if c in header]
    path = write_file("\n".join("\t".join(r[i] for i in keep) for r in rows) + "\n")
    parsed = parse_settlement(path)
    assert len(parsed.header_columns) == 33 and parsed.is_reconciled
