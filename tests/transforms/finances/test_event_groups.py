"""Event groups: parsing, account tail masking, and the latest/history merge (status changes, idempotency)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.finances import (
    FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA,
    PayloadShapeError,
    TimestampFormatError,
    financial_event_groups_table,
    merge_event_groups,
)
from transforms.finances.values import mask_account_tail

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def _group(
    status: str, transfer: str, total: str, *, tail: str = "4854564857", end: str | None = None
) -> dict[str, Any]:
    group: dict[str, Any] = {
        "FinancialEventGroupId": "G1",
        "ProcessingStatus": status,
        "FundTransferStatus": transfer,
        "OriginalTotal": {"CurrencyCode": "EUR", "CurrencyAmount": Decimal(total)},
        "AccountTail": tail,
        "FinancialEventGroupStart": "2026-10-20T00:00:00+02:00",
    }
    if end:
        group["FinancialEventGroupEnd"] = end
    return {"payload": {"FinancialEventGroupList": [group]}}


def _observe(body: dict[str, Any], at: datetime, sha: str = "sha") -> pa.Table:
    return financial_event_groups_table(body, account_id="acct", source_sha256=sha, observed_at=at)


def test_sandbox_group_parses_to_utc_and_masks_the_tail(examples, exact_loader):
    table = _observe(exact_loader(examples / "listFinancialEventGroups.json"), T0)
    row = table.to_pylist()[0]
    assert row["financial_event_group_id"] == "1"
    assert (row["original_total"], row["converted_total"], row["beginning_balance"]) == (
        Decimal("10.34"),
        Decimal("39.43"),
        Decimal("55.33"),
    )
    assert row["fund_transfer_at"] == datetime(2020, 2, 7, 14, 38, 42, 128000, tzinfo=UTC)
    assert row["account_tail_masked"] == "****57"
    assert row["observed_at"] == T0
    assert table.schema.field("started_at").type == pa.timestamp("us", tz="UTC")


def test_group_with_offset_dates_is_stored_in_utc():
    row = _observe(_group("Open", "Unknown", "1.00"), T0).to_pylist()[0]
    assert row["started_at"] == datetime(2026, 10, 19, 22, 0, tzinfo=UTC)
    assert row["ended_at"] is None and row["converted_total"] is None


@given(st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_masked_tail_never_contains_the_raw_tail(tail):
    assert mask_account_tail("") is None and mask_account_tail(None) is None
    masked = mask_account_tail(tail)
    assert masked is not None and masked.startswith("****")
    kept = masked.removeprefix("****")
    assert len(kept) <= 2 and len(kept) < max(len(tail), 1)
    assert tail not in masked and tail.endswith(kept)


def test_open_then_closed_keeps_history_and_latest_state():
    opened = _observe(_group("Open", "Unknown", "100.00"), T0)
    grown = _observe(_group("Open", "Unknown", "150.00"), T0 + timedelta(days=1))
    closed = _observe(
        _group("Closed", "Succeeded", "150.00", end="2026-11-03T00:00:00Z"), T0 + timedelta(days=3)
    )
    latest, history = merge_event_groups(None, opened)
    latest, history = merge_event_groups(history, grown)
    latest, history = merge_event_groups(history, closed)
    assert [
        (r["processing_status"], r["original_total"], r["first_observed_at"]) for r in history.to_pylist()
    ] == [
        ("Open", Decimal("100.00"), T0),
        ("Open", Decimal("150.00"), T0 + timedelta(days=1)),
        ("Closed", Decimal("150.00"), T0 + timedelta(days=3)),
    ]
    assert latest.num_rows == 1
    row = latest.to_pylist()[0]
    assert (row["processing_status"], row["fund_transfer_status"], row["observed_at"]) == (
        "Closed",
        "Succeeded",
        T0 + timedelta(days=3),
    )
    assert row["ended_at"] == datetime(2026, 11, 3, tzinfo=UTC)

    # Re-observing the closed group later only moves last_observed_at; re-merging an old page changes nothing.
    again_latest, again_history = merge_event_groups(history, closed)
    assert again_latest.equals(latest) and again_history.equals(history)
    stale_latest, stale_history = merge_event_groups(history, opened)
    assert stale_latest.equals(latest) and stale_history.equals(history)


def test_merge_is_deterministic_whatever_the_input_order():
    a = _observe(_group("Open", "Unknown", "1.00"), T0, "a")
    b = _observe(_group("Closed", "Succeeded", "1.00"), T0 + timedelta(hours=1), "b")
    forward = merge_event_groups(None, pa.concat_tables([a, b]))
    backward = merge_event_groups(None, pa.concat_tables([b, a]))
    stepwise = merge_event_groups(merge_event_groups(None, b)[1], a)
    assert forward[0].equals(backward[0]) and forward[1].equals(backward[1])
    assert forward[0].equals(stepwise[0]) and forward[1].equals(stepwise[1])
    assert forward[1].schema == FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA


def test_real_group_page_and_empty_page(eolabs, exact_loader):
    row = _observe(exact_loader(eolabs / "fetchListFinancialEventGroups.json"), T0).to_pylist()[0]
    assert (row["processing_status"], row["original_total"], row["account_tail_masked"]) == (
        "Closed",
        Decimal("19.00"),
        "****00",
    )
    assert row["beginning_balance"] == Decimal("0.00") and row["converted_total"] is None
    assert _observe({"payload": {"FinancialEventGroupList": []}}, T0).num_rows == 0


def test_missing_as_of_time_and_error_bodies_are_refused():
    with pytest.raises(TimestampFormatError):
        financial_event_groups_table(
            _group("Open", "Unknown", "1.00"), account_id="a", source_sha256="s", observed_at=None
        )
    error_body = {"errors": [{"code": "InvalidInput", "message": "bad"}]}
    with pytest.raises(PayloadShapeError):
        financial_event_groups_table(error_body, account_id="a", source_sha256="s", observed_at=T0)
