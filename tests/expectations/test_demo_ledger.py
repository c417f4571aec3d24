"""On the simulator's demo ledger, each suite flags exactly the anomaly injected for it, and nothing else.

Built from the ledger in memory (no HTTP, no lake): the settlement amounts use the ledger's own line rules
(`simulator/ledger/anomalies.py`), and the headers come from the report documents it serves. The ledger
is deterministic for a seed and a day; a few days are tried, since which periods are closed depends on today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest

import simulator.ledger as ledger_module
from expectations import fee_rate_anomaly, payout_amount_anomaly, refund_rate_anomaly, settlement_schema_drift
from simulator.ledger import anomalies, history

DAYS = [date(2026, 11, 23) + timedelta(days=offset) for offset in (0, 9, 17)]


def _frames(today: date) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    ledger = ledger_module.Ledger(seed=7, today=today)
    injected = {a.anomaly_id: a.settlement_id for a in ledger.injected_anomalies() if a.issue == 7}
    amounts, headers = [], []
    reference = datetime.combine(today, time(12, 0), tzinfo=UTC)
    for account, settlements in history.build_history(7, today).items():
        for s in settlements:
            if s.period.end > reference:
                continue
            amounts.append(
                {
                    "settlement_id": s.settlement_id,
                    "account_id": account,
                    "currency": s.currency,
                    "deposit_at": s.deposit_at,
                    "total_amount": s.total,
                    "order_principal": anomalies.principal(s),
                    "fees": anomalies.fees(s),
                    "refunded_principal": anomalies.refunded_principal(s),
                }
            )
            document = ledger.report_document(account, s.report_document_id)
            if document is not None:
                first_line = document.content.decode(document.charset).splitlines()[0]
                headers.append(
                    {
                        "settlement_id": s.settlement_id,
                        "source_layout": "flat_file_v2",
                        "header_columns": first_line.split("\t"),
                    }
                )
    return pd.DataFrame(amounts), pd.DataFrame(headers), injected


def _flagged(outcome_metadata: dict, key: str) -> set[str]:
    return {entry["settlement_id"] for entry in outcome_metadata.get(key, [])}


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_each_suite_catches_exactly_its_injected_anomaly(today: date) -> None:
    amounts, headers, injected = _frames(today)
    assert _flagged(payout_amount_anomaly.evaluate(amounts).metadata, "anomalies") == {
        injected["payout_amount_anomaly"]
    }
    assert _flagged(fee_rate_anomaly.evaluate(amounts).metadata, "outliers") == {injected["fee_rate_anomaly"]}
    assert _flagged(refund_rate_anomaly.evaluate(amounts).metadata, "spikes") == {
        injected["refund_rate_anomaly"]
    }
    drift = settlement_schema_drift.evaluate(headers)
    assert _flagged(drift.metadata, "drift") == {injected["settlement_schema_drift"]}
    assert drift.metadata["added_columns"] == "marketplace-id"
    assert drift.metadata["moved_columns"] == "fulfillment-id"
