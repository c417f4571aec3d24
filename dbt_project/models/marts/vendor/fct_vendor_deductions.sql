-- One row per deduction Amazon took from a vendor invoice: a shortage (quantity variance of a line), a price
-- variance (of a line), an allowance (a service charge netted as `Other`: DAMAGE_ALLOWANCE, PRICE_PROTECTION) or
-- another deduction. Per invoice they add up to fct_vendor_invoices.deduction_amount.
with lines as (
    select * from {{ ref('fct_vendor_invoice_lines') }}
),

invoices as (
    select * from {{ ref('fct_vendor_invoices') }}
),

line_deductions as (
    select
        account_id, invoice_identifier, line_item_id, 'shortage' as category, coalesce(pqv_reasons, 'PQV') as reason,
        quantity_variance as quantity, quantity_variance_amount as amount, purchase_order_id, asn_id, asin
    from lines
    where quantity_variance_amount <> 0
    union all
    select
        account_id, invoice_identifier, line_item_id, 'price', coalesce(ppv_reasons, 'PPV'),
        invoiced_quantity, price_variance_amount, purchase_order_id, asn_id, asin
    from lines
    where price_variance_amount <> 0
),

invoice_deductions as (
    select
        account_id, invoice_identifier, cast(null as varchar) as line_item_id,
        case
            when other_deduction_types similar to '.*(ALLOWANCE|PRICE_PROTECTION).*' then 'allowance'
            else 'other'
        end as category,
        coalesce(other_deduction_types, 'Other') as reason,
        cast(null as bigint) as quantity, other_deduction_amount as amount,
        split_part(purchase_order_ids, ',', 1) as purchase_order_id,
        split_part(asn_ids, ',', 1) as asn_id, cast(null as varchar) as asin
    from invoices
    where other_deduction_amount <> 0
),

deductions as (
    select * from line_deductions
    union all
    select * from invoice_deductions
)

select
    deductions.account_id || ':' || deductions.invoice_identifier || ':'
        || coalesce(deductions.line_item_id, '-') || ':' || deductions.category as deduction_id,
    deductions.account_id,
    deductions.invoice_identifier,
    invoices.invoice_number,
    invoices.invoice_status,
    deductions.line_item_id,
    deductions.category,
    deductions.reason,
    deductions.quantity,
    cast(deductions.amount as decimal(18, 2)) as amount,
    invoices.currency,
    deductions.purchase_order_id,
    deductions.asn_id,
    deductions.asin,
    invoices.shortage_invoice_ids,
    invoices.issue_date,
    invoices.due_date,
    cast(invoices.last_updated_at as date) as deducted_on_or_before
from deductions
inner join invoices using (account_id, invoice_identifier)
