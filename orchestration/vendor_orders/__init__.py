"""Vendor orders domain: purchase orders and their status → raw archive → lake (see README.md)."""

import dagster as dg

from orchestration.vendor_orders.assets import (
    spapi_vendor_invoices,
    spapi_vendor_orders,
    vendor_invoices,
    vendor_purchase_orders,
)
from orchestration.vendor_orders.checks import vendor_checks

defs = dg.Definitions(
    assets=[spapi_vendor_orders, vendor_purchase_orders, spapi_vendor_invoices, vendor_invoices],
    asset_checks=vendor_checks,
)
