"""Finances 2024-06-19 listBalances: every balance node (TOTAL and the balances nested under it) as a row."""

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
    to_optional_str,
    to_required_timestamp,
    to_timestamp,
)

BALANCES_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("partner_id", pa.string()),
        pa.field("account_type", pa.string()),
        pa.field("marketplace_id", pa.string()),
        pa.field("as_of", TIMESTAMP_TYPE, nullable=False),
        pa.field("last_updated_at", TIMESTAMP_TYPE),
        pa.field("balance_index", pa.int32(), nullable=False),
        pa.field("balance_path", pa.string(), nullable=False),
        pa.field("balance_type", pa.string()),
        pa.field("parent_balance_type", pa.string()),
        pa.field("depth", pa.int32(), nullable=False),
        pa.field("amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def _nodes(value: Any, where: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(node, Mapping) for node in value):
        raise PayloadShapeError("balances is not a list of objects", where=where)
    return value


def balances_table(
    body: Mapping[str, Any], *, account_id: str, source_sha256: str, as_of: datetime
) -> pa.Table:
    """One row per balance node of a listBalances page.

    Nested balances are not parts that add up (the sandbox's RESERVED = DEFERRED + ACCOUNT_LEVEL_RESERVE, but
    TOTAL = AVAILABLE + RESERVED): every node is kept with its `balance_path` (`TOTAL/RESERVED/DEFERRED`) and
    must be read by type, never summed. `as_of` is the request's asOfDate (or the run's as-of time for the
    current balance); a node's own `asOfDate` wins when the response states one.
    """
    requested = to_required_timestamp(as_of, where="as_of")
    payload = unwrap_payload(body, operation="listBalances")
    rows: list[dict[str, Any]] = []

    def walk(
        nodes: list[Mapping[str, Any]], prefix: str, parent: str | None, top: dict[str, Any], where: str
    ) -> None:
        for index, node in enumerate(nodes):
            node_where = f"{where}[{index}]"
            balance_type = to_optional_str(get_ci(node, "balanceType"))
            path = f"{prefix}/{balance_type or ''}" if prefix else balance_type or ""
            money = get_ci(node, "amount")
            amount, currency = currency_parts(money, where=f"{node_where}.amount") if money else (None, None)
            node_as_of = to_timestamp(get_ci(node, "asOfDate"), where=f"{node_where}.asOfDate")
            updated = to_timestamp(get_ci(node, "lastUpdatedTime"), where=f"{node_where}.lastUpdatedTime")
            here = {
                **top,
                "as_of": node_as_of or top["as_of"],
                "last_updated_at": updated or top["last_updated_at"],
            }
            rows.append(
                {
                    **here,
                    "balance_index": len(rows),
                    "balance_path": path,
                    "balance_type": balance_type,
                    "parent_balance_type": parent,
                    "depth": path.count("/") + 1,
                    "amount": amount,
                    "currency": currency,
                }
            )
            walk(
                _nodes(get_ci(node, "balances"), f"{node_where}.balances"),
                path,
                balance_type,
                here,
                node_where,
            )

    for index, balance in enumerate(_nodes(get_ci(payload, "balances"), "balances")):
        metadata = get_ci(balance, "partnerMetadata") or {}
        if not isinstance(metadata, Mapping):
            raise PayloadShapeError("partnerMetadata is not an object", where=f"balances[{index}]")
        top = {
            "account_id": account_id,
            "partner_id": to_optional_str(get_ci(metadata, "partnerId")),
            "account_type": to_optional_str(get_ci(metadata, "accountType")),
            "marketplace_id": to_optional_str(get_ci(metadata, "marketplaceId")),
            "as_of": requested,
            "last_updated_at": None,
            "source_sha256": source_sha256,
        }
        walk([balance], "", None, top, f"balances[{index}]")
    return pa.Table.from_pylist(rows, schema=BALANCES_SCHEMA)
