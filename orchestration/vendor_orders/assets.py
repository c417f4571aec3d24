"""Vendor purchase orders (Vendor Orders v1) from the SP-API into the lake (see README.md)."""

# No `from __future__ import annotations` here: Dagster checks the `context` annotation as a class.
from collections.abc import Iterator
from dataclasses import asdict

import dagster as dg

from orchestration.account_partitions import (
    ACCOUNT_PARTITIONS,
    each_account,
    finish_accounts,
    run_accounts,
    waiting_logger,
)
from orchestration.clock import amazon_now
from orchestration.lake_metadata import lake_materialization
from orchestration.resources import DataDirResource, SpApiResource
from orchestration.vendor_orders import invoices_landing, landing
from spapi.config import AccountConfig
from transforms.archive import RawArchive

SPAPI_VENDOR_ORDERS = dg.AssetKey(["spapi", "vendor_orders_v1"])
VENDOR_PO_HEADERS = dg.AssetKey(["lake", landing.HEADERS])
VENDOR_PO_ITEMS = dg.AssetKey(["lake", landing.ITEMS])
VENDOR_PO_ITEM_STATUS = dg.AssetKey(["lake", landing.ITEM_STATUS])

GROUP = "vendor_orders"


def _vendor(account: AccountConfig) -> bool:
    return account.kind == "vendor"


spapi_vendor_orders = dg.AssetSpec(
    SPAPI_VENDOR_ORDERS,
    description="Vendor Orders v1: getPurchaseOrders and getPurchaseOrdersStatus (windows of at most 7 days, "
    "reaching back at most 6 months).",
    group_name=GROUP,
    kinds={"api"},
)


class VendorRunConfig(dg.Config):
    """Days re-read before the newest change landed (Amazon is reported to ignore filters at times)."""

    lookback_days: int = 7


def _spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key, deps=[SPAPI_VENDOR_ORDERS], description=description, group_name=GROUP, kinds={"parquet"}
    )


@dg.multi_asset(
    specs=[
        _spec(
            VENDOR_PO_HEADERS,
            "One row per purchase order (latest version): state, type, dates, ship and "
            "delivery windows, party ids and countries (no personal data); partition "
            "account_id=<id>,order_month=<YYYY-MM>.",
        ),
        _spec(
            VENDOR_PO_ITEMS,
            "One row per PO item: ordered quantity, net cost and list price (exact decimals).",
        ),
        _spec(
            VENDOR_PO_ITEM_STATUS,
            "One row per PO item from getPurchaseOrdersStatus: acknowledged (accepted, "
            "rejected) and received quantities.",
        ),
    ],
    can_subset=False,
    partitions_def=ACCOUNT_PARTITIONS,
)
def vendor_purchase_orders(
    context: dg.AssetExecutionContext, config: VendorRunConfig, spapi: SpApiResource, data: DataDirResource
) -> Iterator[dg.MaterializeResult]:
    paths = data.paths()
    archive = RawArchive(paths.raw)
    run = run_accounts(context, spapi.accounts(), _vendor)

    def land(account: AccountConfig) -> landing.VendorOutcome:
        with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
            outcome = landing.land_vendor_orders(
                client,
                account,
                lake=paths.lake,
                archive=archive,
                now=amazon_now(client),
                lookback_days=config.lookback_days,
            )
        context.log.info(
            f"{account.id}: {outcome.orders_read} POs and {outcome.statuses_read} item statuses read"
        )
        return outcome

    outcomes = [outcome for _, outcome in each_account(context, run, land)]
    finish_accounts(context, run, [VENDOR_PO_HEADERS, VENDOR_PO_ITEMS, VENDOR_PO_ITEM_STATUS])
    yield lake_materialization(
        paths.lake,
        VENDOR_PO_HEADERS,
        {
            "accounts": dg.MetadataValue.json([asdict(o) for o in outcomes]),
            "orders_read": sum(o.orders_read for o in outcomes),
            "lake_path": dg.MetadataValue.path(str(paths.lake)),
            **run.metadata(),
        },
    )
    yield lake_materialization(paths.lake, VENDOR_PO_ITEMS, {"lake_path": str(paths.lake)})
    yield lake_materialization(
        paths.lake, VENDOR_PO_ITEM_STATUS, {"statuses_read": sum(o.statuses_read for o in outcomes)}
    )


SPAPI_VENDOR_INVOICES = dg.AssetKey(["spapi", "finances_invoices_2026_06_25"])
VENDOR_INVOICES = dg.AssetKey(["lake", invoices_landing.INVOICES])
VENDOR_INVOICE_LINES = dg.AssetKey(["lake", invoices_landing.INVOICE_LINES])
VENDOR_INVOICE_STATUS_HISTORY = dg.AssetKey(["lake", invoices_landing.INVOICE_STATUS_HISTORY])
VENDOR_SHIPMENT_ITEMS = dg.AssetKey(["lake", invoices_landing.SHIPMENT_ITEMS])

spapi_vendor_invoices = dg.AssetSpec(
    SPAPI_VENDOR_INVOICES,
    description="Finances Invoices 2026-06-25: getInvoiceHeaders (issue-date windows of at most 90 days, then "
    "invoicesModifiedAfter) and getInvoice (line items, nextTokenForLineItems); Vendor Shipments v1 "
    "GetShipmentDetails.",
    group_name=GROUP,
    kinds={"api"},
)


def _invoice_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key, deps=[SPAPI_VENDOR_INVOICES], description=description, group_name=GROUP, kinds={"parquet"}
    )


@dg.multi_asset(
    specs=[
        _invoice_spec(
            VENDOR_INVOICES,
            "One row per vendor invoice (latest version, a status change updates it in place): status, dates, "
            "amount, paid, queued, quick-pay discount, variances, other deductions, related ids; partition "
            "account_id=<id>,issue_month=<YYYY-MM>.",
        ),
        _invoice_spec(
            VENDOR_INVOICE_LINES,
            "One row per invoice line item with its matching context (matched, paid, variances and reasons).",
        ),
        _invoice_spec(
            VENDOR_INVOICE_STATUS_HISTORY,
            "One row per (invoice, status, last update) seen: each invoice's status history.",
        ),
        _invoice_spec(
            VENDOR_SHIPMENT_ITEMS,
            "One row per shipped PO item of the vendor's shipments (ASNs, GetShipmentDetails); partition "
            "account_id=<id>,created_month=<YYYY-MM>.",
        ),
    ],
    can_subset=False,
    partitions_def=ACCOUNT_PARTITIONS,
)
def vendor_invoices(
    context: dg.AssetExecutionContext, config: VendorRunConfig, spapi: SpApiResource, data: DataDirResource
) -> Iterator[dg.MaterializeResult]:
    paths = data.paths()
    archive = RawArchive(paths.raw)
    run = run_accounts(context, spapi.accounts(), _vendor)

    def land(account: AccountConfig) -> invoices_landing.InvoiceOutcome:
        with spapi.client(account, on_wait=waiting_logger(context, account.id)) as client:
            outcome = invoices_landing.land_vendor_invoices(
                client,
                account,
                lake=paths.lake,
                archive=archive,
                now=amazon_now(client),
                lookback_days=config.lookback_days,
            )
            shipped = invoices_landing.land_vendor_shipments(
                client,
                account,
                lake=paths.lake,
                archive=archive,
                now=amazon_now(client),
                lookback_days=config.lookback_days,
            )
        context.log.info(f"{account.id}: {shipped.shipments_read} shipments read")
        context.log.info(
            f"{account.id}: {outcome.headers_read} invoice headers read, {outcome.invoices_changed} new or "
            f"changed, {outcome.lines_read} lines"
        )
        return outcome

    outcomes = [outcome for _, outcome in each_account(context, run, land)]
    finish_accounts(
        context,
        run,
        [VENDOR_INVOICES, VENDOR_INVOICE_LINES, VENDOR_INVOICE_STATUS_HISTORY, VENDOR_SHIPMENT_ITEMS],
    )
    yield lake_materialization(
        paths.lake,
        VENDOR_INVOICES,
        {
            "accounts": dg.MetadataValue.json([asdict(o) for o in outcomes]),
            "invoices_changed": sum(o.invoices_changed for o in outcomes),
            **run.metadata(),
        },
    )
    yield lake_materialization(
        paths.lake, VENDOR_INVOICE_LINES, {"lines_read": sum(o.lines_read for o in outcomes)}
    )
    yield lake_materialization(paths.lake, VENDOR_INVOICE_STATUS_HISTORY, {})
    yield lake_materialization(paths.lake, VENDOR_SHIPMENT_ITEMS, {})
