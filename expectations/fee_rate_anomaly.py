"""Suite `fee_rate_anomaly`: a settlement whose fees ÷ principal falls outside its band.

fee rate = −(every fee line) ÷ (Principal of Order lines), per settlement. A settlement's
band is the median of the other settlements of its account and currency ± THRESHOLD robust deviations
(modified z-score on the MAD), and at least MIN_DEVIATION wide on each side: a period's fee rate moves a few
points with its mix of products and its fixed fees. A rate above 100 % is outside any band. A WARN: a
mis-measured product or a changed fee schedule needs a person.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from expectations.outcome import CheckOutcome, Severity, headline_first, money, rounded
from expectations.robust import CONSISTENCY, DEFAULT_THRESHOLD, peer_scores
from expectations.runner import ColumnRule, ValuesInSet, rules_suite, validated

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAME = "fee_rate_anomaly"
SEVERITY: Severity = "WARN"
MIN_PEERS = 3
# Fee rates that differ by less than one percentage point are noise, whatever the MAD says.
MAD_FLOOR = 0.01
MAX_RATE = 1.0
# The band is never narrower than ten percentage points either side of the peers' median.
MIN_DEVIATION = 0.10


def score_settlements(amounts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """`amounts`: per settlement: settlement_id, account_id, currency, order_principal, fees."""
    import pandas as pd

    frame = amounts.copy()
    frame["account_id"] = frame["account_id"].fillna("")
    frame["fee_rate"] = [
        float(-fees / principal) if principal and principal > 0 else None
        for fees, principal in zip(frame["fees"], frame["order_principal"], strict=True)
    ]
    parts = []
    for _, group in frame.groupby(["account_id", "currency"], sort=True):
        group = group.sort_values("settlement_id").copy()
        scores = peer_scores(list(group["fee_rate"]), mad_floor=MAD_FLOOR, min_peers=MIN_PEERS)
        group["peer_median"] = [s.median if s else None for s in scores]
        spread = [max(threshold * s.mad / CONSISTENCY, MIN_DEVIATION) if s else None for s in scores]
        group["band_low"] = [
            m - d if s else None for m, d, s in zip(group["peer_median"], spread, scores, strict=True)
        ]
        group["band_high"] = [
            min(m + d, MAX_RATE) if s else MAX_RATE
            for m, d, s in zip(group["peer_median"], spread, scores, strict=True)
        ]
        parts.append(group)
    columns = [*frame.columns, "peer_median", "band_low", "band_high"]
    scored = pd.concat(parts) if parts else pd.DataFrame(columns=columns)
    for column in ("fee_rate", "peer_median", "band_low", "band_high"):
        scored[column] = scored[column].astype(float)
    rate = scored["fee_rate"]
    scored["is_outside_band"] = rate.notna() & ((rate > scored["band_high"]) | (rate < scored["band_low"]))
    scored["account_id"] = scored["account_id"].replace("", None)
    return scored.reset_index(drop=True)


RULES: list[ColumnRule] = [ValuesInSet("is_outside_band", (False,))]


def build_suite() -> Any:
    """The GX suite RULES state."""
    return rules_suite(CHECK_NAME, RULES)


def evaluate(amounts: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> CheckOutcome:
    scored = score_settlements(amounts, threshold=threshold)
    suite = validated(CHECK_NAME, RULES, scored[["is_outside_band"]].astype(bool))
    flagged = scored[scored["is_outside_band"]].copy()
    flagged["_distance"] = (flagged["fee_rate"] - flagged["peer_median"].fillna(flagged["fee_rate"])).abs()
    flagged = flagged.sort_values("_distance", ascending=False)
    metadata: dict[str, Any] = {
        "settlements": len(scored),
        "settlements_scored": int(scored["fee_rate"].notna().sum()),
        "settlements_outside_band": len(flagged),
        "threshold_abs_z": threshold,
    }
    if len(flagged):
        worst = flagged.iloc[0]
        metadata.update(
            settlement_id=str(worst["settlement_id"]),
            account_id=worst["account_id"],
            currency=worst["currency"],
            fee_rate=rounded(worst["fee_rate"]),
            band_low=rounded(worst["band_low"]),
            band_high=rounded(worst["band_high"]),
            fees=money(worst["fees"]),
            order_principal=money(worst["order_principal"]),
        )
        metadata["outliers"] = [
            {
                "settlement_id": str(r["settlement_id"]),
                "account_id": r["account_id"],
                "currency": r["currency"],
                "fee_rate": rounded(r["fee_rate"]),
                "peer_median": rounded(r["peer_median"]),
                "band_low": rounded(r["band_low"]),
                "band_high": rounded(r["band_high"]),
                "fees": money(r["fees"]),
                "order_principal": money(r["order_principal"]),
            }
            for r in flagged.to_dict("records")
        ]
    metadata = headline_first(
        metadata,
        ["settlement_id", "fee_rate", "band_low", "band_high", "currency", "settlements_outside_band"],
    )
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, metadata, suite)
