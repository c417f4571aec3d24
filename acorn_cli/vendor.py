"""`acorn vendor check-invoice FILE.json [--json]`: a draft invoice checked against the lake before submission.

The draft is in Vendor Invoices v1's submitInvoices shape (`{"invoices": [Invoice, ...]}`, or one `Invoice`).
Each invoice is checked for the reasons Amazon rejects invoices or deducts from them (AMAZON-FACTS.md): the PO
exists with exactly that case; every item is on its PO; quantities do not exceed the units received and not yet
invoiced (invoices in any status but REJECTED count as invoiced); the net cost is the PO's; the currency is the
PO's; tax details are present where the country taxes the invoice (VAT/GST countries: TAX_COUNTRIES); the invoice
number was not used before. Exit 0 when it would pass, 1 with one message per problem (naming the item line and
field), 2 when the file is not an invoice at all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from orchestration.paths import data_paths

# Countries where an invoice to Amazon must carry tax details (VAT or GST): the EU marketplaces', the UK's,
# India's, Japan's, Australia's... The US and Canada's provincial taxes are not invoiced this way by vendors.
TAX_COUNTRIES = frozenset(
    {
        "DE",
        "FR",
        "IT",
        "ES",
        "NL",
        "PL",
        "SE",
        "BE",
        "AT",
        "IE",
        "GB",
        "UK",
        "IN",
        "JP",
        "AU",
        "SG",
        "TR",
        "AE",
        "SA",
    }
)


class NotAnInvoice(ValueError):
    """The file is not JSON, or holds nothing shaped like a submitInvoices invoice."""


@dataclass(frozen=True)
class Problem:
    invoice: str
    item: int | None  # the item's line (1-based position in `items`), None for the invoice itself
    field: str
    message: str

    def text(self) -> str:
        where = f"invoice {self.invoice}" + (f" item line {self.item}" if self.item is not None else "")
        return f"{where} {self.field}: {self.message}"


def read_invoices(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_bytes(), parse_float=Decimal, parse_int=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAnInvoice(f"{path}: not JSON ({error})") from None
    invoices = document.get("invoices") if isinstance(document, dict) else None
    if invoices is None and isinstance(document, dict) and "id" in document:
        invoices = [document]
    if not isinstance(invoices, list) or not invoices:
        raise NotAnInvoice(
            f'{path}: no invoice (expected submitInvoices\' {{"invoices": [...]}} or one Invoice)'
        )
    for index, invoice in enumerate(invoices):
        if (
            not isinstance(invoice, dict)
            or not isinstance(invoice.get("id"), str)
            or not isinstance(invoice.get("items"), list)
        ):
            raise NotAnInvoice(f"{path}: invoices[{index}] has no id or no items list")
    return invoices


@dataclass
class PoLine:
    purchase_order_number: str
    asin: str | None
    vendor_id: str | None
    net_cost: Decimal | None
    currency: str | None
    received: int
    invoiced: int


def _lake_facts(lake: Path) -> tuple[dict[str, list[PoLine]], set[str], str | None]:
    """PO lines by PO number, invoice numbers used, and the country the POs ship to (when the lake knows it)."""
    import duckdb  # here, not at the top: every `acorn` command imports this module

    from lake import read as lake_read

    with duckdb.connect() as connection:
        has_items = lake_read.register(connection, lake, "vendor_po_items", "po_items")
        has_status = lake_read.register(connection, lake, "vendor_po_item_status", "po_status")
        has_invoices = lake_read.register(connection, lake, "vendor_invoices", "invoices")
        has_lines = lake_read.register(connection, lake, "vendor_invoice_lines", "invoice_lines")
        if not has_items:
            return {}, set(), None
        received = "coalesce(s.received_quantity_eaches, 0)" if has_status else "0"
        status_join = (
            "left join po_status s on s.purchase_order_number = i.purchase_order_number "
            "and s.item_sequence_number = i.item_sequence_number"
            if has_status
            else ""
        )
        invoiced_join = (
            "left join (select l.purchase_order_id, l.asin, sum(l.quantity) as quantity from invoice_lines l "
            "join invoices v using (account_id, invoice_identifier) where v.invoice_status <> 'REJECTED' "
            "group by all) n on n.purchase_order_id = i.purchase_order_number and n.asin = i.amazon_product_identifier"
            if has_lines and has_invoices
            else ""
        )
        invoiced = "coalesce(n.quantity, 0)" if has_lines and has_invoices else "0"
        rows = connection.execute(
            f"select i.purchase_order_number, i.amazon_product_identifier, i.vendor_product_identifier, "
            f"i.net_cost, i.net_cost_currency, {received}, {invoiced} from po_items i {status_join} {invoiced_join}"
        ).fetchall()
        used = (
            {n for (n,) in connection.execute("select distinct invoice_number from invoices").fetchall() if n}
            if has_invoices
            else set()
        )
    lines: dict[str, list[PoLine]] = {}
    for po, asin, vendor_id, cost, currency, got, billed in rows:
        lines.setdefault(po, []).append(PoLine(po, asin, vendor_id, cost, currency, int(got), int(billed)))
    return lines, used, None


def _decimal(value: Any) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _country(invoice: dict[str, Any]) -> str | None:
    for party in ("billToParty", "shipToParty", "remitToParty"):
        address = (invoice.get(party) or {}).get("address") if isinstance(invoice.get(party), dict) else None
        if isinstance(address, dict) and address.get("countryCode"):
            return str(address["countryCode"]).upper()
    return None


def check_invoice(
    invoice: dict[str, Any], po_lines: dict[str, list[PoLine]], used: set[str]
) -> list[Problem]:
    number = str(invoice["id"])
    problems: list[Problem] = []

    def problem(item: int | None, field: str, message: str) -> None:
        problems.append(Problem(number, item, field, message))

    if number in used:
        problem(None, "id", f"invoice number {number} has been used before (Amazon rejects duplicates)")
    total_currency = (invoice.get("invoiceTotal") or {}).get("currencyCode")
    country = _country(invoice)
    needs_tax = country in TAX_COUNTRIES
    if (
        needs_tax
        and not invoice.get("taxDetails")
        and not any(isinstance(i, dict) and i.get("taxDetails") for i in invoice["items"])
    ):
        problem(None, "taxDetails", f"missing: invoices for {country} must carry tax details (VAT/GST)")
    by_upper = {po.upper(): po for po in po_lines}
    claimed: dict[tuple[str, str | None], int] = {}
    for line, item in enumerate(invoice["items"], start=1):
        if not isinstance(item, dict):
            problem(line, "item", "not an object")
            continue
        po = item.get("purchaseOrderNumber")
        if not po:
            problem(line, "purchaseOrderNumber", "missing")
            continue
        if po not in po_lines:
            if str(po).upper() in by_upper:
                problem(
                    line,
                    "purchaseOrderNumber",
                    f"{po} differs in case from the PO {by_upper[str(po).upper()]} (Amazon matches it exactly)",
                )
            else:
                problem(line, "purchaseOrderNumber", f"no purchase order {po} in the lake")
            continue
        asin, vendor_id = item.get("amazonProductIdentifier"), item.get("vendorProductIdentifier")
        match = next(
            (
                p
                for p in po_lines[po]
                if (asin and p.asin == asin) or (not asin and vendor_id and p.vendor_id == vendor_id)
            ),
            None,
        )
        if match is None:
            problem(line, "amazonProductIdentifier", f"{asin or vendor_id} is not on PO {po}")
            continue
        quantity = (item.get("invoicedQuantity") or {}).get("amount")
        unit = (item.get("invoicedQuantity") or {}).get("unitOfMeasure", "Eaches")
        size = (item.get("invoicedQuantity") or {}).get("unitSize") or 1
        units = (
            int(quantity) * (int(size) if str(unit).lower() == "cases" else 1)
            if quantity is not None
            else None
        )
        open_units = match.received - match.invoiced - claimed.get((po, match.asin), 0)
        if units is None:
            problem(line, "invoicedQuantity", "missing")
        elif units > open_units:
            problem(
                line,
                "invoicedQuantity",
                f"{units} exceeds the units received and not yet invoiced ({open_units}: received "
                f"{match.received}, invoiced {match.invoiced + claimed.get((po, match.asin), 0)})",
            )
        if units:
            claimed[(po, match.asin)] = claimed.get((po, match.asin), 0) + units
        cost = item.get("netCost") or {}
        amount = _decimal(cost.get("amount"))
        if amount is None:
            problem(line, "netCost", "missing or not a number")
        elif match.net_cost is not None and amount != match.net_cost:
            problem(
                line, "netCost", f"{amount} differs from the PO's net cost {match.net_cost.normalize():f}"
            )
        currency = cost.get("currencyCode") or total_currency
        if match.currency and currency != match.currency:
            problem(
                line, "netCost.currencyCode", f"{currency} differs from the PO's currency {match.currency}"
            )
    if total_currency and po_lines:
        currencies = {p.currency for lines in po_lines.values() for p in lines if p.currency}
        referenced = {
            p.currency
            for item in invoice["items"]
            if isinstance(item, dict)
            for p in po_lines.get(str(item.get("purchaseOrderNumber")), [])
            if p.currency
        }
        expected = referenced or currencies
        if expected and total_currency not in expected:
            expected_currency = sorted(expected)[0]
            message = f"{total_currency} differs from the PO currency {expected_currency}"
            problem(None, "invoiceTotal.currencyCode", message)
    return problems


@click.group()
def vendor() -> None:
    """Vendor finance: invoices, payments and deductions."""


@vendor.command(name="check-invoice")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
def check_invoice_command(file: Path, as_json: bool) -> None:
    """Check a draft invoice (submitInvoices shape) against the lake before submitting it to Amazon."""
    try:
        invoices = read_invoices(file)
    except NotAnInvoice as error:
        if as_json:
            click.echo(json.dumps({"passes": False, "exit_code": 2, "error": str(error)}))
        else:
            click.echo(f"not an invoice: {error}", err=True)
        raise SystemExit(2) from None
    po_lines, used, _ = _lake_facts(data_paths().lake)
    problems = [p for invoice in invoices for p in check_invoice(invoice, po_lines, used)]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "passes": not problems,
                    "exit_code": 1 if problems else 0,
                    "invoices": [str(i["id"]) for i in invoices],
                    "problems": [asdict(p) | {"text": p.text()} for p in problems],
                },
                indent=2,
            )
        )
    else:
        for p in problems:
            click.echo(p.text())
        if not problems:
            click.echo(f"{len(invoices)} invoice(s) would pass: {', '.join(str(i['id']) for i in invoices)}")
    raise SystemExit(1 if problems else 0)
