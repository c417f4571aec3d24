-- Dispute candidates: shortage deductions on lines where Amazon's own receipts (getPurchaseOrdersStatus
-- receivedQuantity) or the vendor's shipment (its ASN, GetShipmentDetails) show at least the units invoiced, so
-- the shortage is contradicted by the records. The window to
-- dispute is var vendor_dispute_window_days (30 by default: Amazon's Vendor Central policy as vendors' tools report
-- it, counted from the payment date; not an API fact) from the invoice's payment (its last update once paid), or
-- from its due date while unpaid.
with shortages as (
    select * from {{ ref('fct_vendor_deductions') }}
    where category = 'shortage'
),

lines as (
    select * from {{ ref('fct_vendor_invoice_lines') }}
),

invoices as (
    select * from {{ ref('fct_vendor_invoices') }}
),

candidates as (
    select
        shortages.*,
        lines.invoiced_quantity,
        lines.received_quantity,
        lines.shipped_quantity,
        invoices.as_of_date,
        case
            when invoices.invoice_status in ('PAID', 'DEDUCTED', 'PARTIALLY_PAID')
                then cast(invoices.last_updated_at as date)
            else invoices.due_date
        end as window_starts_on
    from shortages
    inner join lines using (account_id, invoice_identifier, line_item_id)
    inner join invoices using (account_id, invoice_identifier)
    where lines.received_quantity >= lines.invoiced_quantity or lines.shipped_quantity >= lines.invoiced_quantity
)

select
    deduction_id,
    account_id,
    invoice_identifier,
    invoice_number,
    invoice_status,
    line_item_id,
    purchase_order_id,
    asn_id,
    asin,
    reason,
    invoiced_quantity,
    received_quantity,
    shipped_quantity,
    received_quantity >= invoiced_quantity as receipts_contradict,
    coalesce(shipped_quantity >= invoiced_quantity, false) as shipment_contradicts,
    quantity as units_deducted,
    amount as amount_at_stake,
    currency,
    window_starts_on,
    cast(window_starts_on + to_days({{ var('vendor_dispute_window_days') }}) as date) as dispute_deadline,
    date_diff('day', as_of_date, cast(window_starts_on + to_days({{ var('vendor_dispute_window_days') }}) as date))
        as days_left_to_dispute
from candidates
