"""Finances 2024-06-19 listTransactions: one row per breakdown leaf, per-transaction totals, status merge.

How item-level breakdowns relate to transaction-level ones (so nothing is counted twice):

* A transaction with transaction-level `breakdowns`: those leaves are the money (`counts_toward_total`);
  the item-level leaves restate it per item and are kept with `counts_toward_total = false`.
* Otherwise, when items carry breakdowns: the item leaves are the money; an item without breakdowns
  contributes its own `totalAmount` as a `Total` row (`amount_source = total`).
* Otherwise: one row, `breakdown_path = Total`, carrying the transaction's `totalAmount`.

Subtotals (non-leaf breakdown nodes) and item totals land in `transaction_breakdown_subtotals`; the
transaction's own total in `transaction_totals`, which also says whether the counted leaves add up to it.

One module of about 575 lines on purpose: the three tables' schemas, the breakdown walk that fills them and the
status merge describe one API response and change together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from transforms.finances.canonical_json import canonical_json
from transforms.finances.errors import PayloadShapeError
from transforms.finances.payload import unwrap_payload
from transforms.finances.values import (
    MONEY_TYPE,
    TIMESTAMP_TYPE,
    currency_parts,
    get_ci,
    to_optional_int,
    to_optional_str,
    to_required_timestamp,
    to_timestamp,
)

# relatedIdentifierName (model enum) -> column. Unknown names still land in related_identifiers_json.
RELATED_IDENTIFIER_COLUMNS: dict[str, str] = {
    "ORDER_ID": "order_id",
    "SHIPMENT_ID": "shipment_id",
    "FINANCIAL_EVENT_GROUP_ID": "financial_event_group_id",
    "SETTLEMENT_ID": "settlement_id",
    "REFUND_ID": "refund_id",
    "INVOICE_ID": "invoice_id",
    "DISBURSEMENT_ID": "disbursement_id",
    "TRANSFER_ID": "transfer_id",
    "DEFERRED_TRANSACTION_ID": "deferred_transaction_id",
    "RELEASE_TRANSACTION_ID": "release_transaction_id",
}

LEVEL_TRANSACTION = "transaction"
LEVEL_ITEM = "item"
SOURCE_BREAKDOWN = "breakdown"
SOURCE_TOTAL = "total"
TOTAL_PATH = "Total"
DERIVED_ID_PREFIX = "derived:"
_VOLATILE_FIELDS = frozenset({"transactionstatus", "contexts"})

_TRANSACTION_FIELDS: list[pa.Field] = [
    pa.field("account_id", pa.string(), nullable=False),
    pa.field("transaction_id", pa.string(), nullable=False),
    pa.field("transaction_id_is_derived", pa.bool_(), nullable=False),
    pa.field("transaction_type", pa.string()),
    pa.field("transaction_status", pa.string()),
    pa.field("description", pa.string()),
    pa.field("posted_at", TIMESTAMP_TYPE),
    pa.field("selling_partner_id", pa.string()),
    pa.field("account_type", pa.string()),
    pa.field("marketplace_id", pa.string()),
    pa.field("marketplace_name", pa.string()),
    *[pa.field(column, pa.string()) for column in RELATED_IDENTIFIER_COLUMNS.values()],
    pa.field("related_identifiers_json", pa.string()),
    pa.field("maturity_at", TIMESTAMP_TYPE),
    pa.field("deferral_reason", pa.string()),
]

TRANSACTIONS_SCHEMA = pa.schema(
    [
        *_TRANSACTION_FIELDS,
        pa.field("leaf_index", pa.int32(), nullable=False),
        pa.field("breakdown_level", pa.string(), nullable=False),
        pa.field("item_index", pa.int32()),
        pa.field("item_description", pa.string()),
        pa.field("order_adjustment_item_id", pa.string()),
        pa.field("sku", pa.string()),
        pa.field("asin", pa.string()),
        pa.field("quantity", pa.int64()),
        pa.field("fulfillment_network", pa.string()),
        pa.field("breakdown_path", pa.string(), nullable=False),
        pa.field("amount_key", pa.string(), nullable=False),
        pa.field("breakdown_type", pa.string()),
        pa.field("breakdown_depth", pa.int32(), nullable=False),
        pa.field("amount_source", pa.string(), nullable=False),
        pa.field("counts_toward_total", pa.bool_(), nullable=False),
        pa.field("amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

TRANSACTION_TOTALS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("transaction_id", pa.string(), nullable=False),
        pa.field("transaction_type", pa.string()),
        pa.field("transaction_status", pa.string()),
        pa.field("posted_at", TIMESTAMP_TYPE),
        pa.field("total_amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("breakdown_source", pa.string(), nullable=False),
        pa.field("counted_rows", pa.int32(), nullable=False),
        pa.field("breakdowns_sum", MONEY_TYPE),
        pa.field("breakdowns_agree", pa.bool_(), nullable=False),
        pa.field("subtotals_agree", pa.bool_(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("transaction_id", pa.string(), nullable=False),
        pa.field("breakdown_level", pa.string(), nullable=False),
        pa.field("item_index", pa.int32()),
        pa.field("breakdown_path", pa.string(), nullable=False),
        pa.field("amount_key", pa.string(), nullable=False),
        pa.field("amount", MONEY_TYPE),
        pa.field("currency", pa.string()),
        pa.field("children_sum", MONEY_TYPE),
        pa.field("children_agree", pa.bool_(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
    ]
)

TRANSACTION_STATUS_HISTORY_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("transaction_id", pa.string(), nullable=False),
        pa.field("transaction_status", pa.string()),
        pa.field("first_observed_at", TIMESTAMP_TYPE, nullable=False),
    ]
)


@dataclass(frozen=True)
class TransactionTables:
    """The three tables one listTransactions page becomes."""

    transactions: pa.Table
    transaction_totals: pa.Table
    transaction_breakdown_subtotals: pa.Table


@dataclass(frozen=True)
class _Leaf:
    key: str
    path: str
    breakdown_type: str | None
    depth: int
    amount: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class _Subtotal:
    key: str
    path: str
    amount: Decimal | None
    currency: str | None
    children_sum: Decimal | None
    children_agree: bool


def _breakdown_list(value: Any, where: str) -> tuple[list[Mapping[str, Any]], str]:
    """(breakdowns, their JSON path); the model's example wraps them as `{"breakdowns": [...]}`."""
    if value is None:
        return [], where
    if isinstance(value, Mapping):
        return _breakdown_list(get_ci(value, "breakdowns"), f"{where}.breakdowns")
    if not isinstance(value, list) or not all(isinstance(node, Mapping) for node in value):
        raise PayloadShapeError("breakdowns is not a list of objects", where=where)
    return value, where


def _relative(where: str) -> str:
    """The JSON path below the transaction (`transactions[3].items[0].totalAmount` -> `items[0]...`)."""
    return where.split(".", 1)[1] if "." in where else where


def _sum_same_currency(
    parts: list[tuple[Decimal | None, str | None]],
) -> tuple[Decimal | None, str | None, bool]:
    """(sum, currency, consistent): consistent is False when currencies differ or an amount is missing."""
    currencies = {currency for _, currency in parts}
    consistent = len(currencies) <= 1 and all(amount is not None for amount, _ in parts)
    total = sum((amount for amount, _ in parts if amount is not None), Decimal(0))
    return total, (next(iter(currencies)) if len(currencies) == 1 else None), consistent


def _walk_breakdowns(
    nodes: list[Mapping[str, Any]],
    where: str,
    leaves: list[_Leaf],
    subtotals: list[_Subtotal],
    prefix: tuple[str, ...] = (),
) -> None:
    for index, node in enumerate(nodes):
        node_where = f"{where}[{index}]"
        breakdown_type = to_optional_str(get_ci(node, "breakdownType"))
        path = (*prefix, breakdown_type or "")
        money = get_ci(node, "breakdownAmount")
        amount, currency = (
            currency_parts(money, where=f"{node_where}.breakdownAmount") if money else (None, None)
        )
        children, children_where = _breakdown_list(get_ci(node, "breakdowns"), f"{node_where}.breakdowns")
        key = _relative(f"{node_where}.breakdownAmount")
        if not children:
            leaves.append(_Leaf(key, "/".join(path), breakdown_type, len(path), amount, currency))
            continue
        _walk_breakdowns(children, children_where, leaves, subtotals, path)
        child_amounts = [
            currency_parts(get_ci(child, "breakdownAmount"), where=node_where)
            if get_ci(child, "breakdownAmount")
            else (None, None)
            for child in children
        ]
        children_sum, children_currency, consistent = _sum_same_currency(child_amounts)
        agree = consistent and amount == children_sum and children_currency == currency
        subtotals.append(_Subtotal(key, "/".join(path), amount, currency, children_sum, agree))


def _contexts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        yield from (context for context in value if isinstance(context, Mapping))


def _context_values(contexts: Any, where: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for context in _contexts(contexts):
        kind = to_optional_str(get_ci(context, "contextType"))
        if kind == "DeferredContext" or get_ci(context, "maturityDate") is not None:
            found["maturity_at"] = to_timestamp(
                get_ci(context, "maturityDate"), where=f"{where}.maturityDate"
            )
            found["deferral_reason"] = to_optional_str(get_ci(context, "deferralReason"))
        if kind == "ProductContext" or get_ci(context, "sku") is not None:
            found["sku"] = to_optional_str(get_ci(context, "sku"))
            found["asin"] = to_optional_str(get_ci(context, "asin"))
            found["quantity"] = to_optional_int(
                get_ci(context, "quantityShipped"), where=f"{where}.quantityShipped"
            )
            found["fulfillment_network"] = to_optional_str(get_ci(context, "fulfillmentNetwork"))
    return found


def _related_identifiers(value: Any, where: str) -> dict[str, Any]:
    columns: dict[str, Any] = dict.fromkeys(RELATED_IDENTIFIER_COLUMNS.values())
    if value is None:
        return {**columns, "related_identifiers_json": None}
    if not isinstance(value, list):
        raise PayloadShapeError("relatedIdentifiers is not a list", where=where)
    for identifier in value:
        if not isinstance(identifier, Mapping):
            raise PayloadShapeError("related identifier is not an object", where=where)
        name = to_optional_str(get_ci(identifier, "relatedIdentifierName"))
        column = RELATED_IDENTIFIER_COLUMNS.get((name or "").upper())
        if column is not None and columns[column] is None:
            # The first value per name fills the column; every value stays in related_identifiers_json.
            columns[column] = to_optional_str(get_ci(identifier, "relatedIdentifierValue"))
    return {**columns, "related_identifiers_json": canonical_json(value)}


def _item_identifier(item: Mapping[str, Any], name: str) -> str | None:
    for identifier in get_ci(item, "relatedIdentifiers") or []:
        if isinstance(identifier, Mapping) and get_ci(identifier, "itemRelatedIdentifierName") == name:
            return to_optional_str(get_ci(identifier, "itemRelatedIdentifierValue"))
    return None


def _transaction_tables(
    transaction: Mapping[str, Any], where: str, *, account_id: str, source_sha256: str
) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    transaction_id = to_optional_str(get_ci(transaction, "transactionId"))
    derived = transaction_id is None
    if transaction_id is None:
        # No id (the sandbox example has none): a hash of the content keeps the row addressable and re-runs
        # stable. Status and contexts are left out, as they change when a deferred transaction is released.
        identity = {key: value for key, value in transaction.items() if key.lower() not in _VOLATILE_FIELDS}
        digest = hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()[:32]
        transaction_id = DERIVED_ID_PREFIX + digest
    metadata = get_ci(transaction, "sellingPartnerMetadata") or {}
    marketplace = get_ci(transaction, "marketplaceDetails") or {}
    if not isinstance(metadata, Mapping) or not isinstance(marketplace, Mapping):
        raise PayloadShapeError("metadata is not an object", where=where)
    context = _context_values(get_ci(transaction, "contexts"), f"{where}.contexts")
    total_money = get_ci(transaction, "totalAmount")
    total_amount, total_currency = (
        currency_parts(total_money, where=f"{where}.totalAmount") if total_money else (None, None)
    )
    common: dict[str, Any] = {
        "account_id": account_id,
        "transaction_id": transaction_id,
        "transaction_id_is_derived": derived,
        "transaction_type": to_optional_str(get_ci(transaction, "transactionType")),
        "transaction_status": to_optional_str(get_ci(transaction, "transactionStatus")),
        "description": to_optional_str(get_ci(transaction, "description")),
        "posted_at": to_timestamp(get_ci(transaction, "postedDate"), where=f"{where}.postedDate"),
        "selling_partner_id": to_optional_str(get_ci(metadata, "sellingPartnerId")),
        "account_type": to_optional_str(get_ci(metadata, "accountType")),
        "marketplace_id": to_optional_str(
            get_ci(marketplace, "marketplaceId") or get_ci(metadata, "marketplaceId")
        ),
        "marketplace_name": to_optional_str(get_ci(marketplace, "marketplaceName")),
        **_related_identifiers(get_ci(transaction, "relatedIdentifiers"), f"{where}.relatedIdentifiers"),
        "maturity_at": context.get("maturity_at"),
        "deferral_reason": context.get("deferral_reason"),
        "source_sha256": source_sha256,
    }
    items = get_ci(transaction, "items") or []
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise PayloadShapeError("items is not a list of objects", where=f"{where}.items")

    rows: list[dict[str, Any]] = []
    subtotal_rows: list[dict[str, Any]] = []

    def subtotal(level: str, item_index: int | None, node: _Subtotal) -> None:
        subtotal_rows.append(
            {
                "account_id": account_id,
                "transaction_id": transaction_id,
                "breakdown_level": level,
                "item_index": item_index,
                "breakdown_path": node.path,
                "amount_key": node.key,
                "amount": node.amount,
                "currency": node.currency,
                "children_sum": node.children_sum,
                "children_agree": node.children_agree,
                "source_sha256": source_sha256,
            }
        )

    def row(level: str, item: dict[str, Any], leaf: _Leaf, source: str, counts: bool) -> None:
        rows.append(
            {
                **common,
                "leaf_index": len(rows),
                "breakdown_level": level,
                **item,
                "breakdown_path": leaf.path,
                "amount_key": leaf.key,
                "breakdown_type": leaf.breakdown_type,
                "breakdown_depth": leaf.depth,
                "amount_source": source,
                "counts_toward_total": counts,
                "amount": leaf.amount,
                "currency": leaf.currency,
            }
        )

    top_leaves: list[_Leaf] = []
    top_subtotals: list[_Subtotal] = []
    _walk_breakdowns(
        *_breakdown_list(get_ci(transaction, "breakdowns"), f"{where}.breakdowns"), top_leaves, top_subtotals
    )
    item_parts = []
    for item_index, item in enumerate(items):
        item_where = f"{where}.items[{item_index}]"
        item_context = _context_values(get_ci(item, "contexts"), f"{item_where}.contexts")
        item_money = get_ci(item, "totalAmount")
        item_total = (
            currency_parts(item_money, where=f"{item_where}.totalAmount") if item_money else (None, None)
        )
        leaves: list[_Leaf] = []
        subtotals: list[_Subtotal] = []
        _walk_breakdowns(
            *_breakdown_list(get_ci(item, "breakdowns"), f"{item_where}.breakdowns"), leaves, subtotals
        )
        leaf_parts = [(leaf.amount, leaf.currency) for leaf in leaves]
        leaves_sum, leaves_currency, consistent = _sum_same_currency(leaf_parts)
        if item_money is not None:
            item_agree = not leaves or (
                consistent and leaves_sum == item_total[0] and leaves_currency == item_total[1]
            )
            subtotal(
                LEVEL_ITEM,
                item_index,
                _Subtotal(
                    f"items[{item_index}].totalAmount",
                    TOTAL_PATH,
                    *item_total,
                    leaves_sum if leaves else None,
                    item_agree,
                ),
            )
        for node in subtotals:
            subtotal(LEVEL_ITEM, item_index, node)
        attributes = {
            "item_index": item_index,
            "item_description": to_optional_str(get_ci(item, "description")),
            "order_adjustment_item_id": _item_identifier(item, "ORDER_ADJUSTMENT_ITEM_ID"),
            "sku": item_context.get("sku"),
            "asin": item_context.get("asin"),
            "quantity": item_context.get("quantity"),
            "fulfillment_network": item_context.get("fulfillment_network"),
        }
        if not common["maturity_at"] and item_context.get("maturity_at"):
            common["maturity_at"] = item_context["maturity_at"]
            common["deferral_reason"] = item_context.get("deferral_reason")
        item_parts.append((attributes, leaves, item_money is not None, item_total))

    # Transaction-level rows carry the item's product attributes when there is exactly one item.
    single_item = item_parts[0][0] if len(item_parts) == 1 else {}
    transaction_attributes = {
        "item_index": None,
        "item_description": None,
        "order_adjustment_item_id": None,
        "sku": single_item.get("sku", context.get("sku")),
        "asin": single_item.get("asin", context.get("asin")),
        "quantity": single_item.get("quantity", context.get("quantity")),
        "fulfillment_network": single_item.get("fulfillment_network", context.get("fulfillment_network")),
    }
    if top_leaves:
        source_level = LEVEL_TRANSACTION
        for leaf in top_leaves:
            row(LEVEL_TRANSACTION, transaction_attributes, leaf, SOURCE_BREAKDOWN, True)
        for attributes, leaves, _, _ in item_parts:
            for leaf in leaves:
                row(LEVEL_ITEM, attributes, leaf, SOURCE_BREAKDOWN, False)
    elif any(leaves for _, leaves, _, _ in item_parts):
        source_level = LEVEL_ITEM
        for attributes, leaves, has_total, item_total in item_parts:
            for leaf in leaves:
                row(LEVEL_ITEM, attributes, leaf, SOURCE_BREAKDOWN, True)
            if not leaves and has_total:
                total_leaf = _Leaf(
                    f"items[{attributes['item_index']}].totalAmount", TOTAL_PATH, None, 0, *item_total
                )
                row(LEVEL_ITEM, attributes, total_leaf, SOURCE_TOTAL, True)
    else:
        source_level = SOURCE_TOTAL
        total_leaf = _Leaf("totalAmount", TOTAL_PATH, None, 0, total_amount, total_currency)
        row(LEVEL_TRANSACTION, transaction_attributes, total_leaf, SOURCE_TOTAL, True)
    for node in top_subtotals:
        subtotal(LEVEL_TRANSACTION, None, node)

    counted = [(r["amount"], r["currency"]) for r in rows if r["counts_toward_total"]]
    counted_sum, counted_currency, consistent = _sum_same_currency(counted)
    totals = {
        "account_id": account_id,
        "transaction_id": transaction_id,
        "transaction_type": common["transaction_type"],
        "transaction_status": common["transaction_status"],
        "posted_at": common["posted_at"],
        "total_amount": total_amount,
        "currency": total_currency,
        "breakdown_source": source_level,
        "counted_rows": len(counted),
        "breakdowns_sum": counted_sum,
        "breakdowns_agree": consistent and counted_sum == total_amount and counted_currency == total_currency,
        "subtotals_agree": all(r["children_agree"] for r in subtotal_rows),
        "source_sha256": source_sha256,
    }
    return rows, totals, subtotal_rows


def transactions_tables(body: Mapping[str, Any], *, account_id: str, source_sha256: str) -> TransactionTables:
    """transactions, transaction_totals and transaction_breakdown_subtotals of one listTransactions page."""
    payload = unwrap_payload(body, operation="listTransactions")
    transactions = get_ci(payload, "transactions") or []
    if not isinstance(transactions, list):
        raise PayloadShapeError("transactions is not a list", where="payload.transactions")
    rows: list[dict[str, Any]] = []
    totals: list[dict[str, Any]] = []
    subtotals: list[dict[str, Any]] = []
    for index, transaction in enumerate(transactions):
        where = f"transactions[{index}]"
        if not isinstance(transaction, Mapping):
            raise PayloadShapeError("transaction is not an object", where=where)
        leaf_rows, total_row, subtotal_rows = _transaction_tables(
            transaction, where, account_id=account_id, source_sha256=source_sha256
        )
        rows.extend(leaf_rows)
        totals.append(total_row)
        subtotals.extend(subtotal_rows)
    return TransactionTables(
        pa.Table.from_pylist(rows, schema=TRANSACTIONS_SCHEMA),
        pa.Table.from_pylist(totals, schema=TRANSACTION_TOTALS_SCHEMA),
        pa.Table.from_pylist(subtotals, schema=TRANSACTION_BREAKDOWN_SUBTOTALS_SCHEMA),
    )


def replace_by_transaction(existing: pa.Table | None, new: pa.Table) -> pa.Table:
    """`existing` with every transaction present in `new` replaced by its rows from `new` (updated in place).

    Works for transactions, transaction_totals and transaction_breakdown_subtotals. When `new` holds the same
    transaction from several pages, the page that comes last in `new` wins (concatenate in observation
    order). The result is sorted by account, transaction and position, so equal inputs give equal tables.
    """
    keys = pc.binary_join_element_wise(new["account_id"], new["transaction_id"], "\x1f")
    last_source: dict[str, str] = {}
    for key, source in zip(keys.to_pylist(), new["source_sha256"].to_pylist(), strict=True):
        last_source[key] = source
    keep_new = pa.array(
        [
            last_source[key] == source
            for key, source in zip(keys.to_pylist(), new["source_sha256"].to_pylist(), strict=True)
        ],
        type=pa.bool_(),
    )
    latest = new.filter(keep_new)
    parts = [latest]
    if existing is not None and existing.num_rows:
        existing = existing.cast(new.schema)
        existing_keys = pc.binary_join_element_wise(
            existing["account_id"], existing["transaction_id"], "\x1f"
        )
        parts.insert(
            0, existing.filter(pc.invert(pc.is_in(existing_keys, value_set=pa.array(list(last_source)))))
        )
    merged = pa.concat_tables(parts)
    order = [("account_id", "ascending"), ("transaction_id", "ascending")]
    for position in ("leaf_index", "breakdown_level", "item_index", "breakdown_path"):
        if position in merged.column_names:
            order.append((position, "ascending"))
    return merged.sort_by(order)


@dataclass(frozen=True)
class TransactionMerge:
    transactions: pa.Table
    transaction_status_history: pa.Table


def merge_transactions(
    existing: pa.Table | None,
    new: pa.Table,
    observed_at: datetime,
    *,
    existing_history: pa.Table | None = None,
) -> TransactionMerge:
    """Current transaction rows plus the status history, after observing `new` at `observed_at`.

    A transaction seen again (for example DEFERRED, later DEFERRED_RELEASED) replaces its earlier rows, so it
    is never counted twice; `transaction_status_history` keeps one row per (transaction, status) with the
    time that status was first observed. Idempotent: merging the same `new` again changes nothing.
    """
    observed = to_required_timestamp(observed_at, where="observed_at")
    current = replace_by_transaction(existing, new.cast(TRANSACTIONS_SCHEMA))
    history: dict[tuple[str, str, str | None], datetime] = {}
    if existing_history is not None:
        for row in existing_history.cast(TRANSACTION_STATUS_HISTORY_SCHEMA).to_pylist():
            history[(row["account_id"], row["transaction_id"], row["transaction_status"])] = row[
                "first_observed_at"
            ]
    seen_now = {
        (row["account_id"], row["transaction_id"], row["transaction_status"])
        for row in new.select(["account_id", "transaction_id", "transaction_status"]).to_pylist()
    }
    for key in seen_now:
        # The earliest observation of a status wins, so merging an older page later cannot move it forward.
        history[key] = min(history.get(key, observed), observed)
    history_rows = [
        {"account_id": a, "transaction_id": t, "transaction_status": s, "first_observed_at": first}
        for (a, t, s), first in sorted(
            history.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[1], kv[0][2] or "")
        )
    ]
    return TransactionMerge(
        current, pa.Table.from_pylist(history_rows, schema=TRANSACTION_STATUS_HISTORY_SCHEMA)
    )
