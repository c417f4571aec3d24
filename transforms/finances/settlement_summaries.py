"""Finances 2024-06-19 listSummary: a settlement's (or period's) net proceeds and its breakdown tree."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
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
    to_optional_str,
    to_timestamp,
)

SETTLEMENT_SUMMARIES_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("settlement_id", pa.string()),
        pa.field("summary_index", pa.int32(), nullable=False),
        pa.field("partner_id", pa.string()),
        pa.field("account_type", pa.string()),
        pa.field("marketplace_id", pa.string()),
        pa.field("period_start_at", TIMESTAMP_TYPE),
        pa.field("period_end_at", TIMESTAMP_TYPE),
        pa.field("net_proceeds", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("leaves_sum", MONEY_TYPE),
        pa.field("leaves_agree", pa.bool_(), nullable=False),
        pa.field("related_identifiers_json", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("settlement_id", pa.string()),
        pa.field("summary_index", pa.int32(), nullable=False),
        pa.field("node_index", pa.int32(), nullable=False),
        pa.field("breakdown_path", pa.string(), nullable=False),
        pa.field("breakdown_type", pa.string()),
        pa.field("depth", pa.int32(), nullable=False),
        pa.field("is_leaf", pa.bool_(), nullable=False),
        pa.field("amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)


def _nodes(value: Any, where: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, Mapping):  # `{"breakdowns": [...]}`, as the transactions model's example has it
        return _nodes(get_ci(value, "breakdowns"), where)
    if not isinstance(value, list) or not all(isinstance(node, Mapping) for node in value):
        raise PayloadShapeError("breakdowns is not a list of objects", where=where)
    return value


def _settlement_id(related: Any) -> str | None:
    for identifier in related if isinstance(related, list) else []:
        if isinstance(identifier, Mapping) and get_ci(identifier, "relatedIdentifierName") == "SETTLEMENT_ID":
            return to_optional_str(get_ci(identifier, "relatedIdentifierValue"))
    return None


def _walk_nodes(
    nodes: list[Mapping[str, Any]],
    prefix: str,
    where: str,
    base: dict[str, Any],
    node_rows: list[dict[str, Any]],
    leaves: list[tuple[Decimal | None, str | None]],
) -> None:
    for index, node in enumerate(nodes):
        here = f"{where}[{index}]"
        breakdown_type = to_optional_str(get_ci(node, "breakdownType"))
        path = f"{prefix}/{breakdown_type or ''}" if prefix else breakdown_type or ""
        money = get_ci(node, "breakdownAmount")
        amount, currency = currency_parts(money, where=f"{here}.breakdownAmount") if money else (None, None)
        children = _nodes(get_ci(node, "breakdowns"), f"{here}.breakdowns")
        if not children:
            leaves.append((amount, currency))
        node_rows.append(
            {
                **base,
                "node_index": len(node_rows),
                "breakdown_path": path,
                "breakdown_type": breakdown_type,
                "depth": path.count("/") + 1,
                "is_leaf": not children,
                "amount": amount,
                "currency": currency,
            }
        )
        _walk_nodes(children, path, f"{here}.breakdowns", base, node_rows, leaves)


def settlement_summaries_tables(
    body: Mapping[str, Any], *, account_id: str, source_sha256: str, settlement_id: str | None = None
) -> tuple[pa.Table, pa.Table]:
    """(settlement_summaries, settlement_summary_breakdowns) of one listSummary page.

    `settlement_id` is the SETTLEMENT_ID the request asked for (responses need not repeat it); a summary's
    own SETTLEMENT_ID related identifier wins. Every breakdown node is kept (`is_leaf` marks the ones to
    sum); `leaves_agree` says whether the leaves add up to the net proceeds.
    """
    payload = unwrap_payload(body, operation="listSummary")
    summaries = _nodes(get_ci(payload, "summaries"), "summaries")
    summary_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    for summary_index, summary in enumerate(summaries):
        where = f"summaries[{summary_index}]"
        metadata = get_ci(summary, "partnerMetadata") or {}
        related = get_ci(summary, "relatedIdentifiers")
        summary_settlement = _settlement_id(related) or settlement_id
        money = get_ci(summary, "netProceeds")
        net, currency = currency_parts(money, where=f"{where}.netProceeds") if money else (None, None)
        leaves: list[tuple[Decimal | None, str | None]] = []

        base = {
            "account_id": account_id,
            "settlement_id": summary_settlement,
            "summary_index": summary_index,
            "source_sha256": source_sha256,
        }
        breakdowns = _nodes(get_ci(summary, "breakdowns"), f"{where}.breakdowns")
        _walk_nodes(breakdowns, "", f"{where}.breakdowns", base, node_rows, leaves)
        leaf_currencies = {leaf_currency for _, leaf_currency in leaves}
        leaves_sum = (
            sum((amount for amount, _ in leaves if amount is not None), Decimal(0)) if leaves else None
        )
        agree = (
            bool(leaves)
            and leaves_sum == net
            and leaf_currencies == {currency}
            and all(amount is not None for amount, _ in leaves)
        )
        summary_rows.append(
            {
                "account_id": account_id,
                "settlement_id": summary_settlement,
                "summary_index": summary_index,
                "partner_id": to_optional_str(get_ci(metadata, "partnerId")),
                "account_type": to_optional_str(get_ci(metadata, "accountType")),
                "marketplace_id": to_optional_str(get_ci(metadata, "marketplaceId")),
                "period_start_at": to_timestamp(get_ci(summary, "periodStart"), where=f"{where}.periodStart"),
                "period_end_at": to_timestamp(get_ci(summary, "periodEnd"), where=f"{where}.periodEnd"),
                "net_proceeds": net,
                "currency": currency,
                "leaves_sum": leaves_sum,
                "leaves_agree": agree,
                "related_identifiers_json": None if related is None else canonical_json(related),
                "source_sha256": source_sha256,
            }
        )
    return (
        pa.Table.from_pylist(summary_rows, schema=SETTLEMENT_SUMMARIES_SCHEMA),
        pa.Table.from_pylist(node_rows, schema=SETTLEMENT_SUMMARY_BREAKDOWNS_SCHEMA),
    )
