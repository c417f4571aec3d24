-- One row per vendor invoice (its latest version): amount, how it was settled (paid, queued, quick-pay discount,
-- quantity and price variance, other deductions) and what is still open, so that per invoice
--   invoice_amount = paid + queued + quick_pay_discount + quantity_variance + price_variance + other + open
-- to the cent. A REJECTED invoice settles nothing: its whole amount stays open (resubmit or write off).
with invoices as (
    select * from {{ ref('stg_lake_vendor__invoices') }}
),

lines as (
    select account_id, invoice_identifier, sum(total_amount) as lines_amount, count(*) as line_count
    from {{ ref('stg_lake_vendor__invoice_lines') }}
    group by all
),

history as (
    select account_id, invoice_identifier, count(distinct invoice_status) as statuses_seen
    from {{ source('lake_vendor', 'vendor_invoice_status_history') }}
    group by all
),

as_of as (
    select {{ vendor_as_of_date() }} as as_of_date
),

settled as (
    select
        invoices.*,
        lines.lines_amount,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(history.statuses_seen, 1) as statuses_seen,
        invoices.quantity_variance_amount + invoices.price_variance_amount + invoices.other_deduction_amount
            as deduction_amount,
        invoices.invoice_amount - (
            invoices.paid_amount + invoices.queued_amount + invoices.quick_pay_discount
            + invoices.quantity_variance_amount + invoices.price_variance_amount + invoices.other_deduction_amount
        ) as open_amount
    from invoices
    left join lines using (account_id, invoice_identifier)
    left join history using (account_id, invoice_identifier)
)

select
    account_id,
    marketplace_id,
    invoice_identifier,
    invoice_number,
    invoice_status,
    invoice_type,
    payee_code,
    currency,
    issued_at,
    cast(issued_at as date) as issue_date,
    cast(due_at as date) as due_date,
    last_updated_at,
    payment_terms,
    cast(invoice_amount as decimal(18, 2)) as invoice_amount,
    cast(paid_amount as decimal(18, 2)) as paid_amount,
    cast(queued_amount as decimal(18, 2)) as queued_amount,
    cast(quick_pay_discount as decimal(18, 2)) as quick_pay_discount,
    cast(quantity_variance_amount as decimal(18, 2)) as quantity_variance_amount,
    cast(price_variance_amount as decimal(18, 2)) as price_variance_amount,
    cast(other_deduction_amount as decimal(18, 2)) as other_deduction_amount,
    other_deduction_types,
    cast(deduction_amount as decimal(18, 2)) as deduction_amount,
    cast(open_amount as decimal(18, 2)) as open_amount,
    cast(lines_amount as decimal(18, 2)) as lines_amount,
    line_count,
    coalesce(lines_amount = invoice_amount, false) as lines_sum_to_amount,
    open_amount >= 0 as reconciles,
    case
        when open_amount > 0 and invoice_status <> 'REJECTED' and cast(due_at as date) < as_of.as_of_date
            then date_diff('day', cast(due_at as date), as_of.as_of_date)
        else 0
    end as days_past_due,
    as_of.as_of_date,
    statuses_seen,
    purchase_order_ids,
    payment_ids,
    shortage_invoice_ids,
    asn_ids,
    return_ids
from settled
cross join as_of
