-- One row per vendor invoice line: what the PO ordered and Amazon received (getPurchaseOrdersStatus), what the
-- vendor's shipment (ASN, GetShipmentDetails) says it shipped,
-- vendor invoiced, what Amazon matched and paid, and the variances with their reasons. Unit costs keep four
-- places (vendor costs can carry sub-cent precision); amounts are cents.
with lines as (
    select * from {{ ref('stg_lake_vendor__invoice_lines') }}
),

invoices as (
    select account_id, invoice_identifier, invoice_number, invoice_status, issued_at
    from {{ ref('stg_lake_vendor__invoices') }}
),

po_items as (
    select * from {{ ref('stg_lake_vendor__po_item_status') }}
),

shipped as (
    select account_id, vendor_shipment_identifier, purchase_order_number, buyer_product_identifier,
           cast(sum(shipped_quantity) as bigint) as shipped_quantity
    from {{ ref('stg_lake_vendor__shipment_items') }}
    group by all
)

select
    lines.account_id,
    lines.invoice_identifier,
    invoices.invoice_number,
    invoices.invoice_status,
    cast(invoices.issued_at as date) as issue_date,
    lines.line_item_id,
    lines.line_item_type,
    lines.purchase_order_id,
    po_items.item_sequence_number,
    lines.asn_id,
    lines.asin,
    lines.external_id,
    lines.currency,
    lines.unit_cost,
    po_items.net_cost as po_net_cost,
    po_items.ordered_quantity_eaches as ordered_quantity,
    po_items.accepted_quantity_eaches as accepted_quantity,
    po_items.received_quantity_eaches as received_quantity,
    shipped.shipped_quantity,
    lines.quantity as invoiced_quantity,
    cast(lines.total_amount as decimal(18, 2)) as invoiced_amount,
    lines.is_matched,
    lines.matched_quantity,
    cast(lines.matched_amount as decimal(18, 2)) as matched_amount,
    lines.quantity_variance,
    cast(lines.quantity_variance * lines.unit_cost as decimal(18, 2)) as quantity_variance_amount,
    cast(lines.price_variance_amount as decimal(18, 2)) as price_variance_amount,
    lines.paid_quantity,
    cast(lines.paid_amount as decimal(18, 2)) as paid_amount,
    lines.pqv_reasons,
    lines.ppv_reasons,
    lines.other_variance_reasons,
    lines.tax_rate_codes
from lines
left join invoices using (account_id, invoice_identifier)
left join po_items
    on po_items.account_id = lines.account_id
    and po_items.purchase_order_number = lines.purchase_order_id
    and po_items.buyer_product_identifier = lines.asin
left join shipped
    on shipped.account_id = lines.account_id
    and shipped.vendor_shipment_identifier = lines.asn_id
    and shipped.purchase_order_number = lines.purchase_order_id
    and shipped.buyer_product_identifier = lines.asin
