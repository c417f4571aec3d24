"""Suite `payout_amount_anomaly`: a payout far from the trailing median of the same account and currency.

Each payout is scored against the payouts before it (the last TRAILING_PAYOUTS by deposit date) of its
account and currency with the modified z-score on the MAD (expectations/robust.py). Payouts with fewer than
MIN_HISTORY predecessors are not scored: there is nothing to compare with yet. A WARN: an odd payout may be
real (a big sale, a reserve release) and needs a person, not a stopped pipeline.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from expectations.outcome import CheckOutcome, Severity, headline_first, money, rounded
from expectations.robust import DEFAULT_THRESHOLD, robust_score
from expectations.runner import ColumnRule, ValuesBetween, rules_suite, validated

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAME = "payout_amount_anomaly"
SEVERITY: Severity = "WARN"
TRAILING_PAYOUTS = 8
MIN_HISTORY = 3
# Payouts wobble 10-20 % from period to period, and a MAD from a few payouts is unreliable (0 would divide
# by 0): it is floored at 10 % of the median, so a payout must be about half the median away to trip.
RELATIVE_MAD_FLOOR = 0.10
ABSOLUTE_MAD_FLOOR = 1.0


def score_payouts(payouts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """`payouts`: settlement_id, account_id, currency, deposit_at (or period_end_at), total_amount."""
    import pandas as pd

    frame = payouts.copy()
    order = frame["deposit_at"] if "deposit_at" in frame else frame["period_end_at"]
    if "period_end_at" in frame:
        order = order.fillna(frame["period_end_at"])
    frame["_order"] = pd.to_datetime(order, utc=True)
    frame["account_id"] = frame["account_id"].fillna("")
    rows = []
    for (account, currency), group in frame.sort_values(["_order", "settlement_id"]).groupby(
        ["account_id", "currency"], sort=True
    ):
        history: list[float] = []
        for record in group.to_dict("records"):
            value = float(record["total_amount"])
            row = {
                "settlement_id": record["settlement_id"],
                "account_id": account or None,
                "currency": currency,
                "deposit_at": record["_order"],
                "total_amount": record["total_amount"],
                "history_size": min(len(history), TRAILING_PAYOUTS),
                "trailing_median": None,
                "mad": None,
                "robust_z": None,
            }
            if len(history) >= MIN_HISTORY:
                window = history[-TRAILING_PAYOUTS:]
                floor = max(ABSOLUTE_MAD_FLOOR, RELATIVE_MAD_FLOOR * abs(pd.Series(window).median()))
                score = robust_score(value, window, mad_floor=floor)
                row.update(trailing_median=score.median, mad=score.mad, robust_z=score.z)
            rows.append(row)
            history.append(value)
    columns = [
        "settlement_id",
        "account_id",
        "currency",
        "deposit_at",
        "total_amount",
        "history_size",
        "trailing_median",
        "mad",
        "robust_z",
    ]
    scored = pd.DataFrame(rows, columns=columns)
    scored["robust_z"] = scored["robust_z"].astype(float)
    scored["is_anomalous"] = scored["robust_z"].abs() > threshold
    return scored


def rules(threshold: float = DEFAULT_THRESHOLD) -> list[ColumnRule]:
    """The suite's expectations: `validated` proves them, `build_suite` states them to GX."""
    return [ValuesBetween("robust_z", min_value=-threshold, max_value=threshold)]


def build_suite(threshold: float = DEFAULT_THRESHOLD) -> Any:
    """The GX suite `rules(threshold)` state."""
    return rules_suite(CHECK_NAME, rules(threshold))


def evaluate(payouts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> CheckOutcome:
    scored = score_payouts(payouts, threshold=threshold)
    suite = validated(CHECK_NAME, rules(threshold), scored[["robust_z"]])
    flagged = scored[scored["is_anomalous"]].copy()
    flagged["_abs_z"] = flagged["robust_z"].abs()
    flagged = flagged.sort_values("_abs_z", ascending=False)
    metadata: dict[str, Any] = {
        "payouts": len(scored),
        "payouts_scored": int(scored["robust_z"].notna().sum()),
        "anomalous_payouts": len(flagged),
        "threshold_abs_z": threshold,
        "trailing_payouts": TRAILING_PAYOUTS,
    }
    if len(flagged):
        worst = flagged.iloc[0]
        metadata.update(
            settlement_id=str(worst["settlement_id"]),
            account_id=worst["account_id"],
            currency=worst["currency"],
            total_amount=money(worst["total_amount"]),
            trailing_median=money(_cents(worst["trailing_median"])),
            robust_z=rounded(worst["robust_z"], 2),
        )
        metadata["anomalies"] = [
            {
                "settlement_id": str(r["settlement_id"]),
                "account_id": r["account_id"],
                "currency": r["currency"],
                "total_amount": money(r["total_amount"]),
                "trailing_median": money(_cents(r["trailing_median"])),
                "mad": money(_cents(r["mad"])),
                "robust_z": rounded(r["robust_z"], 2),
                "history_size": int(r["history_size"]),
            }
            for r in flagged.to_dict("records")
        ]
    metadata = headline_first(
        metadata,
        ["settlement_id", "total_amount", "trailing_median", "robust_z", "currency", "anomalous_payouts"],
    )
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, metadata, suite)


def _cents(value: float) -> Decimal:
    """A statistic of money (a median, a MAD) shown to the cent; only for display."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
