"""v0 financial event groups (listFinancialEventGroups): parse a page, merge into latest + history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pyarrow as pa

from transforms.finances.errors import PayloadShapeError
from transforms.finances.payload import unwrap_payload
from transforms.finances.values import (
    MONEY_TYPE,
    TIMESTAMP_TYPE,
    currency_parts,
    get_ci,
    is_currency,
    mask_account_tail,
    to_optional_str,
    to_required_timestamp,
    to_timestamp,
)

FINANCIAL_EVENT_GROUPS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("financial_event_group_id", pa.string(), nullable=False),
        pa.field("processing_status", pa.string()),
        pa.field("fund_transfer_status", pa.string()),
        pa.field("fund_transfer_at", TIMESTAMP_TYPE),
        pa.field("original_total", MONEY_TYPE),
        pa.field("original_total_currency", pa.string()),
        pa.field("converted_total", MONEY_TYPE),
        pa.field("converted_total_currency", pa.string()),
        pa.field("beginning_balance", MONEY_TYPE),
        pa.field("beginning_balance_currency", pa.string()),
        pa.field("trace_id", pa.string()),
        pa.field("account_tail_masked", pa.string()),
        pa.field("started_at", TIMESTAMP_TYPE),
        pa.field("ended_at", TIMESTAMP_TYPE),
        pa.field("observed_at", TIMESTAMP_TYPE, nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

# One row per distinct state of a group; the other columns are those of the latest observation in that state.
FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA = pa.schema(
    [
        *[f for f in FINANCIAL_EVENT_GROUPS_SCHEMA if f.name != "observed_at"],
        pa.field("first_observed_at", TIMESTAMP_TYPE, nullable=False),
        pa.field("last_observed_at", TIMESTAMP_TYPE, nullable=False),
    ]
)

# What makes a new history row: a change in any of these (the "status changes", plus the total).
STATE_COLUMNS: tuple[str, ...] = (
    "account_id",
    "financial_event_group_id",
    "processing_status",
    "fund_transfer_status",
    "original_total",
    "original_total_currency",
)

_MONEY_FIELDS = {
    "OriginalTotal": "original_total",
    "ConvertedTotal": "converted_total",
    "BeginningBalance": "beginning_balance",
}


def financial_event_groups_table(
    body: Mapping[str, Any], *, account_id: str, source_sha256: str, observed_at: datetime
) -> pa.Table:
    """One row per group of a listFinancialEventGroups page, as seen at `observed_at` (the run's as-of)."""
    observed = to_required_timestamp(observed_at, where="observed_at")
    payload = unwrap_payload(body, operation="listFinancialEventGroups")
    groups = get_ci(payload, "FinancialEventGroupList") or []
    if not isinstance(groups, list):
        raise PayloadShapeError(
            "FinancialEventGroupList is not a list", where="payload.FinancialEventGroupList"
        )
    rows = []
    for index, group in enumerate(groups):
        where = f"FinancialEventGroupList[{index}]"
        if not isinstance(group, Mapping):
            raise PayloadShapeError("group is not an object", where=where)
        group_id = to_optional_str(get_ci(group, "FinancialEventGroupId"))
        if group_id is None:
            raise PayloadShapeError("group without FinancialEventGroupId", where=where)
        row: dict[str, Any] = {
            "account_id": account_id,
            "financial_event_group_id": group_id,
            "processing_status": to_optional_str(get_ci(group, "ProcessingStatus")),
            "fund_transfer_status": to_optional_str(get_ci(group, "FundTransferStatus")),
            "fund_transfer_at": to_timestamp(
                get_ci(group, "FundTransferDate"), where=f"{where}.FundTransferDate"
            ),
            "trace_id": to_optional_str(get_ci(group, "TraceId")),
            "account_tail_masked": mask_account_tail(get_ci(group, "AccountTail")),
            "started_at": to_timestamp(get_ci(group, "FinancialEventGroupStart"), where=f"{where}.Start"),
            "ended_at": to_timestamp(get_ci(group, "FinancialEventGroupEnd"), where=f"{where}.End"),
            "observed_at": observed,
            "source_sha256": source_sha256,
        }
        for field_name, column in _MONEY_FIELDS.items():
            value = get_ci(group, field_name)
            if value is not None and not is_currency(value):
                raise PayloadShapeError(f"{field_name} is not a Currency", where=f"{where}.{field_name}")
            amount, currency = currency_parts(value, where=f"{where}.{field_name}") if value else (None, None)
            row[column] = amount
            row[f"{column}_currency"] = currency
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=FINANCIAL_EVENT_GROUPS_SCHEMA)


def _state_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple("" if row[column] is None else str(row[column]) for column in STATE_COLUMNS)


def merge_event_groups(existing: pa.Table | None, new: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(latest, history) after adding the observations in `new` to the history `existing`.

    `existing` is the history table this function returned last time (or None on the first run); `new` is
    one or more `financial_event_groups_table` results concatenated. History keeps one row per distinct
    state (STATE_COLUMNS) with its first and last observation; latest is, per group, the state observed last.
    Deterministic and idempotent: merging the same `new` again returns equal tables.
    """
    history: dict[tuple[str, ...], dict[str, Any]] = {}
    if existing is not None:
        for row in existing.cast(FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA).to_pylist():
            history[_state_key(row)] = row
    observations = sorted(
        new.cast(FINANCIAL_EVENT_GROUPS_SCHEMA).to_pylist(),
        key=lambda row: (row["observed_at"], row["source_sha256"]),
    )
    for observation in observations:
        key = _state_key(observation)
        observed_at = observation.pop("observed_at")
        known = history.get(key)
        if known is None:
            history[key] = {**observation, "first_observed_at": observed_at, "last_observed_at": observed_at}
            continue
        first = min(known["first_observed_at"], observed_at)
        if observed_at >= known["last_observed_at"]:
            known.update(observation, last_observed_at=observed_at)
        known["first_observed_at"] = first
    history_rows = sorted(
        history.values(),
        key=lambda row: (
            row["account_id"],
            row["financial_event_group_id"],
            row["first_observed_at"],
            _state_key(row),
        ),
    )
    latest_by_group: dict[tuple[str, str], dict[str, Any]] = {}
    for row in history_rows:
        group = (row["account_id"], row["financial_event_group_id"])
        current = latest_by_group.get(group)
        if current is None or (row["last_observed_at"], _state_key(row)) > (
            current["last_observed_at"],
            _state_key(current),
        ):
            latest_by_group[group] = row
    latest_rows = [
        {
            **{k: v for k, v in row.items() if k not in ("first_observed_at", "last_observed_at")},
            "observed_at": row["last_observed_at"],
        }
        for _, row in sorted(latest_by_group.items())
    ]
    return (
        pa.Table.from_pylist(latest_rows, schema=FINANCIAL_EVENT_GROUPS_SCHEMA),
        pa.Table.from_pylist(history_rows, schema=FINANCIAL_EVENT_GROUP_HISTORY_SCHEMA),
    )
