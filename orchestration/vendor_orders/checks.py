"""Vendor finance checks over the marts. Names are a contract: `acorn build --json` reports them.

- vendor_invoice_lines_sum (ERROR): every invoice's line items add up to its amount, to the cent;
- vendor_invoices_past_due (WARN): invoices with money still open after their due date, with the total;
- vendor_deduction_rate (WARN): a month whose deductions exceed `vendor_deduction_rate_warn` (dbt var) of the
  value invoiced that month, with the numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import dagster as dg

from orchestration.dbt_vars import dbt_var
from orchestration.published_warehouse import read_only
from orchestration.resources import DataDirResource
from orchestration.verdict import acorn_check

VENDOR_INVOICE_LINES_SUM = "vendor_invoice_lines_sum"
VENDOR_INVOICES_PAST_DUE = "vendor_invoices_past_due"
VENDOR_DEDUCTION_RATE = "vendor_deduction_rate"

FCT_VENDOR_INVOICES = dg.AssetKey(["warehouse", "fct_vendor_invoices"])
DEDUCTION_RATE_WARN = Decimal(str(dbt_var("vendor_deduction_rate_warn")))
SAMPLE_SIZE = 10


def _rows(data: DataDirResource, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with read_only(data.paths().warehouse) as connection:
        return connection.execute(sql, params or []).fetchall()


@acorn_check(
    asset=FCT_VENDOR_INVOICES,
    name=VENDOR_INVOICE_LINES_SUM,
    description="Every vendor invoice's line items add up to its invoice amount, to the cent (an invoice whose "
    "lines were read and do not is wrong at Amazon or in ACORN).",
)
def vendor_invoice_lines_sum(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(
        data,
        "select account_id, invoice_identifier, invoice_amount, lines_amount from marts.fct_vendor_invoices "
        "where not lines_sum_to_amount order by account_id, invoice_identifier",
    )
    [(total,)] = _rows(data, "select count(*) from marts.fct_vendor_invoices")
    metadata: dict[str, Any] = {"invoices": total, "invoices_not_adding_up": len(rows)}
    if rows:
        metadata["examples"] = dg.MetadataValue.json(
            [
                {"account_id": a, "invoice": i, "invoice_amount": str(amount), "lines_amount": str(lines)}
                for a, i, amount, lines in rows[:SAMPLE_SIZE]
            ]
        )
    return dg.AssetCheckResult(passed=not rows, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata)


@acorn_check(
    asset=FCT_VENDOR_INVOICES,
    name=VENDOR_INVOICES_PAST_DUE,
    description="Warns when vendor invoices have money still open after their due date (REJECTED ones aside), "
    "with how many, the total open and the oldest.",
)
def vendor_invoices_past_due(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(
        data,
        "select account_id, invoice_identifier, currency, open_amount, days_past_due "
        "from marts.fct_vendor_invoices where days_past_due > 0 order by days_past_due desc",
    )
    totals: dict[str, Decimal] = {}
    for _, _, currency, amount, _ in rows:
        totals[currency] = totals.get(currency, Decimal("0")) + amount
    metadata: dict[str, Any] = {
        "invoices_past_due": len(rows),
        "open_past_due": dg.MetadataValue.json({c: str(v) for c, v in sorted(totals.items())}),
    }
    if rows:
        metadata["examples"] = dg.MetadataValue.json(
            [
                {"account_id": a, "invoice": i, "open": f"{amount} {c}", "days_past_due": days}
                for a, i, c, amount, days in rows[:SAMPLE_SIZE]
            ]
        )
    return dg.AssetCheckResult(passed=not rows, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


@acorn_check(
    asset=FCT_VENDOR_INVOICES,
    name=VENDOR_DEDUCTION_RATE,
    description="Warns when a month's deductions (shortages, price variances, allowances) exceed the share "
    "`vendor_deduction_rate_warn` (dbt var, 5% by default) of the value invoiced that month (by issue month, "
    "REJECTED invoices aside).",
)
def vendor_deduction_rate(data: DataDirResource) -> dg.AssetCheckResult:
    rows = _rows(
        data,
        "select account_id, strftime(issue_date, '%Y-%m') as month, currency, sum(invoice_amount), "
        "sum(deduction_amount) from marts.fct_vendor_invoices where invoice_status <> 'REJECTED' "
        "group by all order by all",
    )
    over = [
        {
            "account_id": a,
            "month": month,
            "currency": currency,
            "invoiced": str(invoiced),
            "deducted": str(deducted),
            "rate": str((deducted / invoiced).quantize(Decimal("0.0001"))),
        }
        for a, month, currency, invoiced, deducted in rows
        if invoiced and deducted / invoiced > DEDUCTION_RATE_WARN
    ]
    metadata: dict[str, Any] = {
        "months": len(rows),
        "months_over_threshold": len(over),
        "threshold": str(DEDUCTION_RATE_WARN),
    }
    if over:
        metadata["months_over"] = dg.MetadataValue.json(over[:SAMPLE_SIZE])
    return dg.AssetCheckResult(passed=not over, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)


vendor_checks = [vendor_invoice_lines_sum, vendor_invoices_past_due, vendor_deduction_rate]
