"""Suite `unknown_fee_descriptions`: fee lines whose amount-type/description fee_taxonomy does not know.

Such a fee is still counted (fee_category `other`), so nothing is lost, but a category report would hide it:
WARN, listing each unknown description with its line count and amount per currency, so a person can add it to
dbt_project/seeds/fee_taxonomy.csv.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from expectations.outcome import CheckOutcome, Severity, headline_first, money
from expectations.runner import ColumnRule, ValuesInSet, rules_suite, validated

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAME = "unknown_fee_descriptions"
SEVERITY: Severity = "WARN"


RULES: list[ColumnRule] = [ValuesInSet("is_fee_type_known", (True,))]


def build_suite() -> Any:
    """The GX suite RULES state."""
    return rules_suite(CHECK_NAME, RULES)


def evaluate(fees: pd.DataFrame) -> CheckOutcome:
    """`fees`: fee lines with amount_type, fee_type, currency, amount (Decimal) and is_fee_type_known, or the
    same grouped, with `lines` counting the lines each row stands for and `amount` their sum."""
    frame = fees if "lines" in fees.columns else fees.assign(lines=1)
    suite = validated(CHECK_NAME, RULES, frame[["is_fee_type_known"]].astype(bool))
    unknown = frame[~frame["is_fee_type_known"].astype(bool)]
    described = []
    keys = [unknown["amount_type"].fillna(""), unknown["fee_type"].fillna(""), unknown["currency"]]
    for (amount_type, fee_type, currency), group in unknown.groupby(keys, sort=True):
        described.append(
            {
                "amount_type": amount_type or None,
                "fee_type": fee_type or None,
                "currency": currency,
                "lines": int(group["lines"].sum()),
                "amount": money(sum(group["amount"], Decimal(0))),
            }
        )
    metadata: dict[str, Any] = {
        "fee_lines": int(frame["lines"].sum()),
        "unknown_fee_lines": int(unknown["lines"].sum()),
        "unknown_descriptions": len({(d["amount_type"], d["fee_type"]) for d in described}),
    }
    if described:
        metadata["first_unknown"] = f"{described[0]['amount_type']} / {described[0]['fee_type']}"
        metadata["unknown"] = described
    metadata = headline_first(metadata, ["first_unknown", "unknown_fee_lines", "unknown_descriptions"])
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, metadata, suite)
