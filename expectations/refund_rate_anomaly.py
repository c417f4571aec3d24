"""Suite `refund_rate_anomaly`: a spike in a settlement's refund rate.

refund rate = refunded Principal ÷ ordered Principal, per settlement (both as positive amounts). A spike is a
rate more than THRESHOLD robust deviations (modified z-score on the MAD) above the median of the other
settlements of the same account and currency, and at least MIN_EXCESS above it: with thirty orders a period,
a single return moves the rate by a few points. Only spikes count; fewer refunds than usual is good news.
A WARN: a bad batch or a listing error needs a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations.outcome import CheckOutcome, Severity, headline_first, money, rounded
from expectations.robust import DEFAULT_THRESHOLD, peer_scores
from expectations.runner import ColumnRule, ValuesInSet, rules_suite, validated

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAME = "refund_rate_anomaly"
SEVERITY: Severity = "WARN"
MIN_PEERS = 3
MAD_FLOOR = 0.01
MIN_EXCESS = 0.05


def score_settlements(amounts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """`amounts`: one row per settlement with settlement_id, account_id, currency, order_principal,
    refunded_principal (Amazon's sign: negative) and, optionally, order_count and refund_count."""
    import pandas as pd

    frame = amounts.copy()
    frame["account_id"] = frame["account_id"].fillna("")
    frame["refund_rate"] = [
        float(-refunded / principal) if principal and principal > 0 else None
        for refunded, principal in zip(frame["refunded_principal"], frame["order_principal"], strict=True)
    ]
    parts = []
    for _, group in frame.groupby(["account_id", "currency"], sort=True):
        group = group.sort_values("settlement_id").copy()
        scores = peer_scores(list(group["refund_rate"]), mad_floor=MAD_FLOOR, min_peers=MIN_PEERS)
        group["peer_median"] = [s.median if s else None for s in scores]
        group["robust_z"] = [s.z if s else None for s in scores]
        parts.append(group)
    scored = pd.concat(parts) if parts else pd.DataFrame(columns=[*frame.columns, "peer_median", "robust_z"])
    for column in ("refund_rate", "peer_median", "robust_z"):
        scored[column] = scored[column].astype(float)
    excess = scored["refund_rate"] - scored["peer_median"]
    scored["is_spike"] = (scored["robust_z"] > threshold) & (excess >= MIN_EXCESS)
    scored["account_id"] = scored["account_id"].replace("", None)
    return scored.reset_index(drop=True)


RULES: list[ColumnRule] = [ValuesInSet("is_spike", (False,))]


def build_suite() -> Any:
    """The GX suite RULES state."""
    return rules_suite(CHECK_NAME, RULES)


def evaluate(amounts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> CheckOutcome:
    scored = score_settlements(amounts, threshold=threshold)
    suite = validated(CHECK_NAME, RULES, scored[["is_spike"]].astype(bool))
    flagged = scored[scored["is_spike"]].sort_values("robust_z", ascending=False)
    metadata: dict[str, Any] = {
        "settlements": len(scored),
        "settlements_scored": int(scored["robust_z"].notna().sum()),
        "refund_spikes": len(flagged),
        "threshold_abs_z": threshold,
        "min_excess_rate": MIN_EXCESS,
    }
    if len(flagged):
        worst = flagged.iloc[0]
        metadata.update(
            settlement_id=str(worst["settlement_id"]),
            account_id=worst["account_id"],
            currency=worst["currency"],
            refund_rate=rounded(worst["refund_rate"]),
            peer_median_rate=rounded(worst["peer_median"]),
            robust_z=rounded(worst["robust_z"], 2),
            refunded_principal=money(worst["refunded_principal"]),
            order_principal=money(worst["order_principal"]),
        )
        metadata["spikes"] = [
            {
                "settlement_id": str(r["settlement_id"]),
                "account_id": r["account_id"],
                "currency": r["currency"],
                "refund_rate": rounded(r["refund_rate"]),
                "peer_median_rate": rounded(r["peer_median"]),
                "robust_z": rounded(r["robust_z"], 2),
                "refunded_principal": money(r["refunded_principal"]),
                "order_principal": money(r["order_principal"]),
                "refund_count": _count(r.get("refund_count")),
            }
            for r in flagged.to_dict("records")
        ]
    metadata = headline_first(
        metadata,
        ["settlement_id", "refund_rate", "peer_median_rate", "robust_z", "currency", "refund_spikes"],
    )
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, metadata, suite)


def _count(value: Any) -> int | None:
    return None if value is None or value != value else int(value)
