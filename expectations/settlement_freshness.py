"""Suite `settlement_freshness`: every account has had a new settlement within the last N days.

Amazon closes a settlement about every 14 days and the report follows within days, so an account whose latest
settlement period ended more than N days ago (default 21: the cycle plus a week of lag, the dbt var
`settlement_freshness_days`) has stopped reporting, or ACORN has stopped fetching. ERROR: every mart of that
account is silently out of date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from expectations.outcome import CheckOutcome, Severity, headline_first, rounded
from expectations.runner import ColumnRule, ValuesBetween, rules_suite, validated

if TYPE_CHECKING:
    import pandas as pd

CHECK_NAME = "settlement_freshness"
SEVERITY: Severity = "ERROR"
DEFAULT_MAX_AGE_DAYS = 21


def score_accounts(payouts: pd.DataFrame, *, now: datetime) -> pd.DataFrame:
    """`payouts`: settlement_id, account_id, period_end_at. One row per account: its latest period end."""
    import pandas as pd

    frame = payouts.copy()
    frame["account_id"] = frame["account_id"].fillna("(no account)")
    frame["period_end_at"] = pd.to_datetime(frame["period_end_at"], utc=True)
    latest = frame.sort_values(["period_end_at", "settlement_id"]).groupby("account_id", sort=True).tail(1)
    reference = pd.Timestamp(now if now.tzinfo else now.replace(tzinfo=UTC))
    latest = latest.assign(
        latest_period_end_at=latest["period_end_at"],
        days_since_latest=(reference - latest["period_end_at"]).dt.total_seconds() / 86400,
    )
    return latest[["account_id", "settlement_id", "latest_period_end_at", "days_since_latest"]].reset_index(
        drop=True
    )


def rules(max_age_days: float) -> list[ColumnRule]:
    """The suite's expectations: `validated` proves them, `build_suite` states them to GX."""
    return [ValuesBetween("days_since_latest", max_value=max_age_days)]


def build_suite(max_age_days: float) -> Any:
    """The GX suite `rules(max_age_days)` state."""
    return rules_suite(CHECK_NAME, rules(max_age_days))


def evaluate(
    payouts: pd.DataFrame, *, now: datetime, max_age_days: float = DEFAULT_MAX_AGE_DAYS
) -> CheckOutcome:
    scored = score_accounts(payouts, now=now)
    suite = validated(CHECK_NAME, rules(max_age_days), scored[["days_since_latest"]].astype(float))
    stale = scored[scored["days_since_latest"] > max_age_days].sort_values(
        "days_since_latest", ascending=False
    )
    metadata: dict[str, Any] = {
        "accounts": len(scored),
        "stale_accounts": len(stale),
        "max_age_days": max_age_days,
        "oldest_latest_settlement_days": rounded(scored["days_since_latest"].max(), 1)
        if len(scored)
        else None,
        "evaluated_at": now.isoformat(),
    }
    metadata["accounts_latest"] = [
        {
            "account_id": r["account_id"],
            "settlement_id": str(r["settlement_id"]),
            "latest_period_end_at": r["latest_period_end_at"].isoformat(),
            "days_since_latest": rounded(r["days_since_latest"], 1),
        }
        for r in scored.to_dict("records")
    ]
    if len(stale):
        metadata["account_id"] = stale.iloc[0]["account_id"]
        metadata["days_since_latest"] = rounded(stale.iloc[0]["days_since_latest"], 1)
    metadata = headline_first(metadata, ["account_id", "days_since_latest", "max_age_days", "stale_accounts"])
    return CheckOutcome(CHECK_NAME, suite.success, SEVERITY, metadata, suite)
