"""Each suite fails on its bad case, with the numbers that tripped it, and passes on clean data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from expectations import (
    fee_rate_anomaly,
    payout_amount_anomaly,
    refund_rate_anomaly,
    settlement_freshness,
    settlement_reconciles,
    settlement_schema_drift,
    unknown_fee_descriptions,
)
from expectations.settlement_schema_drift import (
    FLAT_FILE,
    FLAT_FILE_NO_PROMOTIONS,
    FLAT_FILE_V2,
    column_drift,
)

D = Decimal
START = datetime(2026, 6, 1, tzinfo=UTC)
# Ten fortnightly payouts per account and currency that wobble by a few percent, as real ones do.
USD_TOTALS = [
    "1520.10",
    "1488.42",
    "1611.00",
    "1502.75",
    "1455.30",
    "1590.04",
    "1533.33",
    "1499.99",
    "1562.80",
]
EUR_TOTALS = ["980.00", "1012.45", "955.10", "1003.70", "990.25", "1021.60", "968.90", "1008.00", "975.35"]


def _payouts(usd: list[str] = USD_TOTALS, eur: list[str] = EUR_TOTALS) -> pd.DataFrame:
    rows = []
    for account, currency, totals in (("demo-na", "USD", usd), ("demo-eu", "EUR", eur)):
        for index, total in enumerate(totals):
            end = START + timedelta(days=14 * (index + 1))
            rows.append(
                {
                    "settlement_id": f"{currency}{index:04d}",
                    "account_id": account,
                    "currency": currency,
                    "period_end_at": end,
                    "deposit_at": end + timedelta(days=1),
                    "total_amount": D(total),
                    "lines_total": D(total),
                }
            )
    return pd.DataFrame(rows)


# -- settlement_schema_drift ---------------------------------------------------------------------------------


def _settlements(headers: dict[str, tuple[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"settlement_id": sid, "account_id": "demo-na", "source_layout": layout, "header_columns": header}
            for sid, (layout, header) in headers.items()
        ]
    )


def test_schema_drift_passes_on_every_known_header_in_any_storage_form() -> None:
    frame = _settlements(
        {
            "1": ("flat_file_v2", list(FLAT_FILE_V2)),
            "2": ("flat_file_v2", json.dumps(["\ufeff" + FLAT_FILE_V2[0], *FLAT_FILE_V2[1:]])),
            "3": ("flat_file", "\t".join(FLAT_FILE_NO_PROMOTIONS)),
        }
    )
    outcome = settlement_schema_drift.evaluate(frame)
    assert outcome.passed, outcome.metadata
    assert outcome.metadata["drifted_settlements"] == 0
    assert outcome.severity == "ERROR"
    # No drift: proved without GX, with the suite's one expectation reported as GX names it.
    assert outcome.suite is not None and outcome.suite.validated_by != "great_expectations"
    assert [(o.expectation, o.column) for o in outcome.suite.outcomes] == [
        ("expect_column_values_to_be_in_set", "is_drifted")
    ]


def test_schema_drift_names_added_removed_and_moved_columns() -> None:
    drifted = [c for c in FLAT_FILE_V2 if c != "fulfillment-id"]
    drifted.insert(3, drifted.pop(drifted.index("sku")))  # sku moved near the front
    drifted.append("tax-collection-model")
    frame = _settlements({"clean": ("flat_file_v2", list(FLAT_FILE_V2)), "bad": ("flat_file_v2", drifted)})
    outcome = settlement_schema_drift.evaluate(frame)
    assert not outcome.passed
    assert (
        outcome.suite is not None and outcome.suite.validated_by == "great_expectations"
    )  # drift: GX judges
    assert outcome.metadata["drifted_settlements"] == 1
    assert outcome.metadata["first_drifted_settlement"] == "bad"
    # The headline a summary prints first names the columns.
    assert list(outcome.metadata)[:4] == [
        "first_drifted_settlement",
        "added_columns",
        "removed_columns",
        "moved_columns",
    ]
    assert (outcome.metadata["added_columns"], outcome.metadata["moved_columns"]) == (
        "tax-collection-model",
        "sku",
    )
    (drift,) = outcome.metadata["drift"]
    assert drift["added"] == ["tax-collection-model"]
    assert drift["removed"] == ["fulfillment-id"]
    assert drift["moved"] == ["sku"]


def test_column_drift_of_a_swap_moves_one_column_only() -> None:
    drift = column_drift(["a", "b", "c", "d"], ["a", "c", "b", "d"])
    assert drift.added == [] and drift.removed == [] and len(drift.moved) == 1


# -- payout_amount_anomaly -----------------------------------------------------------------------------------


def test_payout_anomaly_passes_on_ordinary_payouts() -> None:
    outcome = payout_amount_anomaly.evaluate(_payouts())
    assert outcome.passed, outcome.metadata
    assert outcome.metadata["payouts_scored"] == 2 * (len(USD_TOTALS) - payout_amount_anomaly.MIN_HISTORY)
    assert outcome.severity == "WARN"


def test_payout_anomaly_flags_the_odd_payout_with_its_numbers() -> None:
    usd = [*USD_TOTALS[:6], "4210.00", *USD_TOTALS[6:]]
    outcome = payout_amount_anomaly.evaluate(_payouts(usd=usd))
    assert not outcome.passed
    assert outcome.metadata["anomalous_payouts"] == 1
    assert outcome.metadata["settlement_id"] == "USD0006"
    assert outcome.metadata["total_amount"] == "4210.00"
    assert outcome.metadata["robust_z"] > 3.5
    # The trailing median is the median of the six payouts before it.
    assert Decimal(outcome.metadata["trailing_median"]) == Decimal("1511.42")


def test_payout_anomaly_never_compares_currencies() -> None:
    # EUR payouts of a very different size do not make USD payouts look odd, nor the reverse.
    eur = [str(D(t) * 40) for t in EUR_TOTALS]
    assert payout_amount_anomaly.evaluate(_payouts(eur=eur)).passed


# -- fee_rate_anomaly and refund_rate_anomaly ----------------------------------------------------------------

PRINCIPALS = ["1800.00", "1750.50", "1905.20", "1688.00", "1820.75", "1777.10", "1850.00", "1799.99"]
FEE_RATES = ["0.251", "0.248", "0.262", "0.255", "0.249", "0.258", "0.252", "0.260"]
REFUND_RATES = ["0.030", "0.021", "0.045", "0.000", "0.038", "0.027", "0.033", "0.019"]


def _amounts(fee_rates: list[str] = FEE_RATES, refund_rates: list[str] = REFUND_RATES) -> pd.DataFrame:
    rows = []
    for index, (principal, fee_rate, refund_rate) in enumerate(
        zip(PRINCIPALS, fee_rates, refund_rates, strict=True)
    ):
        p = D(principal)
        rows.append(
            {
                "settlement_id": f"S{index}",
                "account_id": "demo-na",
                "currency": "USD",
                "order_principal": p,
                "fees": -(p * D(fee_rate)).quantize(D("0.01")),
                "refunded_principal": -(p * D(refund_rate)).quantize(D("0.01")),
                "refund_count": 2,
            }
        )
    return pd.DataFrame(rows)


def test_fee_rate_passes_inside_the_band() -> None:
    outcome = fee_rate_anomaly.evaluate(_amounts())
    assert outcome.passed, outcome.metadata
    assert outcome.metadata["settlements_scored"] == len(PRINCIPALS)


def test_fee_rate_flags_the_settlement_outside_the_band() -> None:
    rates = [*FEE_RATES]
    rates[5] = "0.520"  # a mis-dimensioned product: fulfilment fees near its price
    outcome = fee_rate_anomaly.evaluate(_amounts(fee_rates=rates))
    assert not outcome.passed
    assert outcome.metadata["settlements_outside_band"] == 1
    assert outcome.metadata["settlement_id"] == "S5"
    assert outcome.metadata["fee_rate"] == pytest.approx(0.52, abs=1e-3)
    assert outcome.metadata["band_high"] < 0.52
    assert outcome.metadata["fees"] == str(-(D("1777.10") * D("0.520")).quantize(D("0.01")))


def test_fees_above_principal_are_outside_any_band_even_without_history() -> None:
    frame = _amounts().head(2)
    frame.loc[0, "fees"] = D("-2000.00")
    outcome = fee_rate_anomaly.evaluate(frame)
    assert not outcome.passed and outcome.metadata["settlement_id"] == "S0"


def test_refund_rate_passes_on_ordinary_noise() -> None:
    outcome = refund_rate_anomaly.evaluate(_amounts())
    assert outcome.passed, outcome.metadata


def test_refund_rate_flags_a_spike_and_ignores_a_dip() -> None:
    rates = [*REFUND_RATES]
    rates[2] = "0.180"
    outcome = refund_rate_anomaly.evaluate(_amounts(refund_rates=rates))
    assert not outcome.passed
    assert outcome.metadata["refund_spikes"] == 1
    assert outcome.metadata["settlement_id"] == "S2"
    assert outcome.metadata["refund_rate"] == pytest.approx(0.18, abs=1e-3)
    assert outcome.metadata["robust_z"] > 3.5
    # A period with no refunds at all is good news, not an anomaly.
    assert refund_rate_anomaly.evaluate(_amounts(refund_rates=[*REFUND_RATES[:7], "0.000"])).passed


# -- settlement_reconciles -----------------------------------------------------------------------------------


def test_reconciles_passes_when_every_total_matches_its_lines() -> None:
    outcome = settlement_reconciles.evaluate(_payouts())
    assert outcome.passed and outcome.metadata["unreconciled_settlements"] == 0


def test_reconciles_fails_on_one_cent_and_names_the_difference() -> None:
    frame = _payouts()
    frame.loc[3, "lines_total"] = frame.loc[3, "total_amount"] - D("0.01")
    outcome = settlement_reconciles.evaluate(frame)
    assert not outcome.passed
    assert outcome.severity == "ERROR"
    assert outcome.metadata["settlement_id"] == "USD0003"
    assert outcome.metadata["difference"] == "0.01"


# -- settlement_freshness ------------------------------------------------------------------------------------


def test_freshness_passes_within_the_cycle_and_fails_after_it() -> None:
    frame = _payouts()
    last_end = START + timedelta(days=14 * len(USD_TOTALS))
    assert settlement_freshness.evaluate(frame, now=last_end + timedelta(days=20)).passed
    stale = frame[~((frame["account_id"] == "demo-eu") & (frame["settlement_id"] >= "EUR0007"))]
    outcome = settlement_freshness.evaluate(stale, now=last_end + timedelta(days=10))
    assert not outcome.passed
    assert outcome.metadata["stale_accounts"] == 1
    assert outcome.metadata["account_id"] == "demo-eu"
    assert outcome.metadata["days_since_latest"] == pytest.approx(38.0)


# -- unknown_fee_descriptions --------------------------------------------------------------------------------


def test_unknown_fee_descriptions_lists_each_unknown_with_lines_and_amount() -> None:
    fees = pd.DataFrame(
        [
            {
                "amount_type": "ItemFees",
                "fee_type": "Commission",
                "currency": "USD",
                "amount": D("-4.50"),
                "is_fee_type_known": True,
            },
            {
                "amount_type": "ItemFees",
                "fee_type": "NewHandlingFee",
                "currency": "USD",
                "amount": D("-1.10"),
                "is_fee_type_known": False,
            },
            {
                "amount_type": "ItemFees",
                "fee_type": "NewHandlingFee",
                "currency": "USD",
                "amount": D("-1.15"),
                "is_fee_type_known": False,
            },
        ]
    )
    assert unknown_fee_descriptions.evaluate(fees.head(1)).passed
    outcome = unknown_fee_descriptions.evaluate(fees)
    assert not outcome.passed and outcome.severity == "WARN"
    assert outcome.metadata["unknown_fee_lines"] == 2
    assert outcome.metadata["unknown"] == [
        {
            "amount_type": "ItemFees",
            "fee_type": "NewHandlingFee",
            "currency": "USD",
            "lines": 2,
            "amount": "-2.25",
        }
    ]


def test_schema_drift_on_arrow_gives_the_frames_outcome() -> None:
    """The import's drift check judges the lake's Arrow table (evaluate_table): the same outcome as the frame's,
    and no frame at all when every header is known."""
    moved = [c for c in FLAT_FILE_V2 if c != "fulfillment-id"]
    moved.insert(3, moved.pop(moved.index("sku")))
    cases = {
        "list": {"1": ("flat_file_v2", list(FLAT_FILE_V2)), "2": ("flat_file", list(FLAT_FILE))},
        "json": {"1": ("flat_file_v2", json.dumps(["\ufeff" + FLAT_FILE_V2[0], *FLAT_FILE_V2[1:]]))},
        "tab": {"3": ("flat_file", "\t".join(FLAT_FILE_NO_PROMOTIONS))},
        "drifted": {"clean": ("flat_file_v2", list(FLAT_FILE_V2)), "bad": ("flat_file_v2", moved)},
        "no header": {"1": ("flat_file_v2", list(FLAT_FILE_V2)), "2": ("flat_file_v2", None)},
    }
    for name, headers in cases.items():
        frame = _settlements(headers)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        outcome = settlement_schema_drift.evaluate_table(table)
        assert outcome == settlement_schema_drift.evaluate(table.to_pandas()), name
        assert outcome.passed is (name not in ("drifted", "no header")), name
