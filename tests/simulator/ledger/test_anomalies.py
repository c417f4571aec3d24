"""The injected anomalies are exactly those documented, and nothing else in the history looks anomalous."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from simulator.ledger import Ledger
from simulator.ledger import anomalies as measures

from .conftest import NOW, SELLERS

README = Path(measures.__file__).with_name("README.md")


def _closed(ledger: Ledger, account: str) -> list:
    engine_settlements = ledger._seller(account)  # the measures work on the ledger's own settlements
    return [s for s in engine_settlements if s.period.end <= NOW]


def test_exactly_the_documented_anomalies(ledger: Ledger) -> None:
    found = {a.anomaly_id: a for a in ledger.injected_anomalies()}
    assert set(found) == {
        "v0_group_mismatch",
        "settlement_schema_drift",
        "payout_amount_anomaly",
        "fee_rate_anomaly",
        "refund_rate_anomaly",
    }
    assert {a.issue for a in found.values()} == {6, 7}
    text = README.read_text()
    for anomaly_id in found:
        assert f"`{anomaly_id}`" in text
    # Each anomaly sits in a closed settlement whose report getReports still lists.
    for anomaly in found.values():
        visible = {r["reportId"] for r in ledger.reports(anomaly.account_id, NOW)}
        [settlement] = [
            s for s in ledger.settlements(anomaly.account_id) if s.settlement_id == anomaly.settlement_id
        ]
        assert settlement.report_id in visible and settlement.end <= NOW
        assert settlement.financial_event_group_id == anomaly.financial_event_group_id
    # One anomaly per settlement, so each check trips on its own case.
    assert len({a.settlement_id for a in found.values()}) == len(found)


def test_only_the_payout_anomaly_is_far_from_the_median(ledger: Ledger) -> None:
    [anomaly] = [a for a in ledger.injected_anomalies() if a.anomaly_id == "payout_amount_anomaly"]
    for account in SELLERS:
        closed = _closed(ledger, account)
        for currency in {s.currency for s in closed}:
            same = [s for s in closed if s.currency == currency]
            recent = [s for s in same if s.period.end > NOW - timedelta(days=90)]
            for population in (same, recent):
                scores = measures.robust_z_scores(population)
                outliers = {sid for sid, z in scores.items() if abs(z) > measures.ROBUST_Z_LIMIT}
                expected = {anomaly.settlement_id} & set(scores)
                assert outliers == expected, (account, currency, scores)
    assert Decimal(anomaly.numbers["robust_z"]) > 2 * measures.ROBUST_Z_LIMIT


def test_only_the_fee_outlier_leaves_the_fee_band(ledger: Ledger) -> None:
    [anomaly] = [a for a in ledger.injected_anomalies() if a.anomaly_id == "fee_rate_anomaly"]
    low, high = measures.FEE_RATIO_BAND
    outside = {
        s.settlement_id: measures.fee_ratio(s)
        for account in SELLERS
        for s in _closed(ledger, account)
        if not low <= measures.fee_ratio(s) <= high
    }
    assert set(outside) == {anomaly.settlement_id}
    assert outside[anomaly.settlement_id] == Decimal(anomaly.numbers["fee_ratio"])


def test_only_the_refund_spike_exceeds_the_refund_limit(ledger: Ledger) -> None:
    [anomaly] = [a for a in ledger.injected_anomalies() if a.anomaly_id == "refund_rate_anomaly"]
    rates = {
        s.settlement_id: measures.refund_rate(s) for account in SELLERS for s in _closed(ledger, account)
    }
    spikes = {sid for sid, rate in rates.items() if rate > measures.REFUND_RATE_LIMIT}
    assert spikes == {anomaly.settlement_id}
    others = sorted(rate for sid, rate in rates.items() if sid != anomaly.settlement_id)
    assert rates[anomaly.settlement_id] > 4 * others[len(others) // 2]


def test_anomalies_follow_today_and_stay_inside_the_report_window() -> None:
    for today in (date(2026, 3, 1), date(2027, 1, 15)):
        later = Ledger(seed=7, today=today)
        now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        assert len(later.injected_anomalies()) == 5
        for anomaly in later.injected_anomalies():
            visible = {r["reportId"] for r in later.reports(anomaly.account_id, now)}
            [s] = [
                s for s in later.settlements(anomaly.account_id) if s.settlement_id == anomaly.settlement_id
            ]
            assert s.report_id in visible


def test_readme_states_the_numbers_for_the_reference_day() -> None:
    """README.md quotes each anomaly's numbers for its reference day, 2026-11-23 (whatever day the suite runs)."""
    text = README.read_text()
    for anomaly in Ledger(seed=7, today=date(2026, 11, 23)).injected_anomalies():
        assert anomaly.settlement_id in text
        for key, value in anomaly.numbers.items():
            if re.fullmatch(r"-?\d+\.\d+", value):
                assert value in text, (anomaly.anomaly_id, key, value)


def _ordinary_outliers(ledger: Ledger, now: datetime) -> list[tuple[str, str, Decimal]]:
    """Settlements outside the documented bands that are not the anomaly of that measure."""
    ids = {a.anomaly_id: a.settlement_id for a in ledger.injected_anomalies()}
    found = []
    low, high = measures.FEE_RATIO_BAND
    for account in SELLERS:
        closed = [s for s in ledger._seller(account) if s.period.end <= now]
        for currency in {s.currency for s in closed}:
            same = [s for s in closed if s.currency == currency]
            recent = [s for s in same if s.period.end > now - timedelta(days=90)]
            for population in (same, recent):
                for settlement_id, z in measures.robust_z_scores(population).items():
                    if abs(z) > measures.ROBUST_Z_LIMIT and settlement_id != ids["payout_amount_anomaly"]:
                        found.append(("payout", settlement_id, z))
        for s in closed:
            if not low <= measures.fee_ratio(s) <= high and s.settlement_id != ids["fee_rate_anomaly"]:
                found.append(("fee", s.settlement_id, measures.fee_ratio(s)))
            if (
                measures.refund_rate(s) > measures.REFUND_RATE_LIMIT
                and s.settlement_id != ids["refund_rate_anomaly"]
            ):
                found.append(("refund", s.settlement_id, measures.refund_rate(s)))
    return found


@pytest.mark.parametrize(
    ("seed", "today"),
    [(7, date(2026, 9, 9)), (7, date(2027, 1, 15)), (3, date(2026, 11, 23)), (12, date(2027, 4, 2))],
)
def test_other_seeds_and_days_stay_inside_the_bands(seed: int, today: date) -> None:
    other = Ledger(seed=seed, today=today)
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert _ordinary_outliers(other, now) == []
    numbers = {a.anomaly_id: a.numbers for a in other.injected_anomalies()}
    assert Decimal(numbers["payout_amount_anomaly"]["robust_z"]) > 2 * measures.ROBUST_Z_LIMIT
    assert Decimal(numbers["fee_rate_anomaly"]["fee_ratio"]) > measures.FEE_RATIO_BAND[1] + Decimal("0.1")
    assert Decimal(numbers["refund_rate_anomaly"]["refund_rate"]) > measures.REFUND_RATE_LIMIT + Decimal(
        "0.1"
    )
