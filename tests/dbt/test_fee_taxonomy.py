"""fee_taxonomy covers the fee descriptions Amazon is known to use, in every source, with valid categories."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR

CATEGORIES = {
    "referral_commission",
    "fulfilment",
    "storage",
    "subscription",
    "advertising",
    "refund_administration",
    "shipping",
    "promotion",
    "tax",
    "reserve",
    "other",
}
# Amount types whose lines can be fee lines (DESIGN.md: ItemFees, Shipment-Fees, or ServiceFee transactions,
# which V2 files write as other-transaction).
FEE_AMOUNT_TYPES = {"ItemFees", "Shipment-Fees", "other-transaction"}


def _seed() -> list[dict[str, str]]:
    with (DBT_PROJECT_DIR / "seeds" / "fee_taxonomy.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_is_unique_and_has_a_known_category_and_source() -> None:
    rows = _seed()
    keys = [(r["source"], r["amount_type"], r["amount_description"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert {r["fee_category"] for r in rows} <= CATEGORIES
    assert {r["source"] for r in rows} == {"settlement", "financial_event", "transaction"}


def test_every_observed_settlement_fee_description_is_mapped(shared_fixtures: Path) -> None:
    reference = json.loads(
        (shared_fixtures / "reference" / "xieyi138_fee-codes.json").read_text(encoding="utf-8")
    )
    mapped = {(r["amount_type"], r["amount_description"]) for r in _seed() if r["source"] == "settlement"}
    missing = [
        (amount_type, entry["description"])
        for entry in reference["entries"]
        for amount_type in entry["amount_types"]
        if amount_type in FEE_AMOUNT_TYPES and (amount_type, entry["description"]) not in mapped
    ]
    assert not missing, f"fee descriptions seen in real reports but not in fee_taxonomy.csv: {missing}"


def test_every_financial_event_fee_type_in_the_fixtures_is_mapped(shared_fixtures: Path) -> None:
    fee_types = set()
    for folder in (shared_fixtures / "spapi-examples", shared_fixtures / "api-fixtures"):
        for path in folder.rglob("*.json"):
            if "inancialEvent" in path.name or "financial" in str(path).lower():
                fee_types |= set(re.findall(r'"FeeType":\s*"([^"]+)"', path.read_text(encoding="utf-8")))
    assert fee_types, "no FeeType found in the fixtures"
    mapped = {
        r["amount_description"]
        for r in _seed()
        if r["source"] == "financial_event" and r["amount_type"] in ("fee", "")
    }
    assert fee_types <= mapped, f"FeeTypes not in fee_taxonomy.csv: {sorted(fee_types - mapped)}"
