"""Transfers 2024-06-01 listExpectedPayouts: the payouts Amazon states it will make (EU marketplaces)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from transforms.finances.canonical_json import canonical_json
from transforms.finances.errors import PayloadShapeError
from transforms.finances.payload import unwrap_payload
from transforms.finances.values import (
    MONEY_TYPE,
    TIMESTAMP_TYPE,
    currency_parts,
    get_ci,
    mask_account_tail,
    to_optional_str,
    to_timestamp,
)

EXPECTED_PAYOUTS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("payout_index", pa.int32(), nullable=False),
        pa.field("partner_id", pa.string()),
        pa.field("account_type", pa.string()),
        pa.field("marketplace_id", pa.string()),
        pa.field("status", pa.string()),
        pa.field("scheduled_at", TIMESTAMP_TYPE),
        pa.field("period_start_at", TIMESTAMP_TYPE),
        pa.field("period_end_at", TIMESTAMP_TYPE),
        pa.field("amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("payment_method", pa.string()),
        pa.field("account_tail_masked", pa.string()),
        pa.field("settlement_id", pa.string()),
        pa.field("related_identifiers_json", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def expected_payouts_table(body: Mapping[str, Any], *, account_id: str, source_sha256: str) -> pa.Table:
    """One row per expected payout of a listExpectedPayouts page (the account tail masked)."""
    payload = unwrap_payload(body, operation="listExpectedPayouts")
    payouts = get_ci(payload, "expectedPayouts") or []
    if not isinstance(payouts, list):
        raise PayloadShapeError("expectedPayouts is not a list", where="expectedPayouts")
    rows = []
    for index, payout in enumerate(payouts):
        where = f"expectedPayouts[{index}]"
        if not isinstance(payout, Mapping):
            raise PayloadShapeError("payout is not an object", where=where)
        metadata = get_ci(payout, "partnerMetadata") or {}
        period = get_ci(payout, "period") or {}
        related = get_ci(payout, "relatedIdentifiers")
        settlement_id = None
        for identifier in related if isinstance(related, list) else []:
            if (
                isinstance(identifier, Mapping)
                and get_ci(identifier, "relatedIdentifierName") == "SETTLEMENT_ID"
            ):
                settlement_id = to_optional_str(get_ci(identifier, "relatedIdentifierValue"))
                break
        money = get_ci(payout, "amount")
        amount, currency = currency_parts(money, where=f"{where}.amount") if money else (None, None)
        rows.append(
            {
                "account_id": account_id,
                "payout_index": index,
                "partner_id": to_optional_str(get_ci(metadata, "partnerId")),
                "account_type": to_optional_str(get_ci(metadata, "accountType")),
                "marketplace_id": to_optional_str(get_ci(metadata, "marketplaceId")),
                "status": to_optional_str(get_ci(payout, "status")),
                "scheduled_at": to_timestamp(get_ci(payout, "scheduledDate"), where=f"{where}.scheduledDate"),
                "period_start_at": to_timestamp(
                    get_ci(period, "startDate"), where=f"{where}.period.startDate"
                ),
                "period_end_at": to_timestamp(get_ci(period, "endDate"), where=f"{where}.period.endDate"),
                "amount": amount,
                "currency": currency,
                "payment_method": to_optional_str(get_ci(payout, "paymentMethod")),
                "account_tail_masked": mask_account_tail(get_ci(payout, "accountTail")),
                "settlement_id": settlement_id,
                "related_identifiers_json": None if related is None else canonical_json(related),
                "source_sha256": source_sha256,
            }
        )
    return pa.Table.from_pylist(rows, schema=EXPECTED_PAYOUTS_SCHEMA)
