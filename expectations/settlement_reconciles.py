"""Suite `settlement_reconciles`: every settlement's lines add up to its total-amount, exactly.

The sum is recomputed here from the exact decimals (not only read from `is_reconciled`), so the check also
catches a mart that computed the flag wrongly. ERROR: a payout that does not reconcile must not be published
as if it did; it is flagged, never "fixed".
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from expectations.outcome import CheckOutcome, Severity, headline_first, money
from expectations.runner import ColumnRule, ValuesInSet, rules_suite, validated

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAME = "settlement_reconciles"
SEVERITY: Severity = "ERROR"


def score_payouts(payouts: pd.DataFrame) -> pd.DataFrame:
    """`payouts`: settlement_id, account_id, currency, total_amount, lines_total (exact Decimals)."""
    frame = payouts[["settlement_id", "account_id", "currency", "total_amount", "lines_total"]].copy()
    frame["difference"] = [
        _decimal(total) - _decimal(lines)
        for total, lines in zip(frame["total_amount"], frame["lines_total"], strict=True)
    ]
    frame["reconciles"] = [difference == 0 for difference in frame["difference"]]
    return frame


RULES: list[ColumnRule] = [ValuesInSet("reconciles", (True,))]


def build_suite() -> Any:
    """The GX suite RULES state."""
    return rules_suite(CHECK_NAME, RULES)


def evaluate(payouts: pd.DataFrame) -> CheckOutcome:
    scored = score_payouts(payouts)
    suite = validated(CHECK_NAME, RULES, scored[["reconciles"]].astype(bool))
    failing = scored[~scored["reconciles"].astype(bool)]
    metadata: dict[str, Any] = {"settlements": len(scored), "unreconciled_settlements": len(failing)}
    if len(failing):
        worst = failing.iloc[0]
        metadata.update(
            settlement_id=str(worst["settlement_id"]),
            total_amount=money(worst["total_amount"]),
            lines_total=money(worst["lines_total"]),
            difference=money(worst["difference"]),
            currency=worst["currency"],
        )
        metadata["unreconciled"] = [
            {
                "settlement_id": str(r["settlement_id"]),
                "account_id": r["account_id"],
                "currency": r["currency"],
                "total_amount": money(r["total_amount"]),
                "lines_total": money(r["lines_total"]),
                "difference": money(r["difference"]),
            }
            for r in failing.to_dict("records")
        ]
    metadata = headline_first(
        metadata,
        [
            "settlement_id",
            "difference",
            "total_amount",
            "lines_total",
            "currency",
            "unreconciled_settlements",
        ],
    )
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, metadata, suite)


def _decimal(value: Any) -> Decimal:
    if value is None or (isinstance(value, float) and value != value):
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
