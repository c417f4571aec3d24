-- Per purchase order, from order to cash: ordered -> acknowledged (accepted) -> received -> invoiced -> paid, in
-- units and in money at the PO's net cost, with the difference at each step, and what Amazon deducted. The
-- reconciliation a vendor's finance team does by hand: invoiced_amount = paid + deducted + discounted + open.
-- Settlement amounts are the invoices' (header level); an invoice naming several POs counts toward its first.
with po_lines as (
    select * from {{ ref('stg_lake_vendor__po_item_status') }}
),

po as (
    select
        account_id,
        purchase_order_number,
        max(purchase_order_status) as purchase_order_status,
        min(purchase_order_at) as purchase_order_at,
        max(net_cost_currency) as currency,
        sum(ordered_quantity_eaches) as ordered_quantity,
        sum(coalesce(accepted_quantity_eaches, 0)) as accepted_quantity,
        sum(coalesce(received_quantity_eaches, 0)) as received_quantity,
        sum(ordered_quantity_eaches * net_cost) as ordered_value,
        sum(coalesce(accepted_quantity_eaches, 0) * net_cost) as accepted_value,
        sum(coalesce(received_quantity_eaches, 0) * net_cost) as received_value
    from po_lines
    group by all
),

invoiced as (
    select
        account_id,
        purchase_order_id as purchase_order_number,
        sum(invoiced_quantity) as invoiced_quantity,
        sum(invoiced_amount) as invoiced_amount
    from {{ ref('fct_vendor_invoice_lines') }}
    where invoice_status <> 'REJECTED'
    group by all
),

invoice_state as (
    select
        account_id,
        split_part(purchase_order_ids, ',', 1) as purchase_order_number,
        sum(paid_amount) as paid_amount,
        sum(deduction_amount) as deducted_amount,
        sum(quick_pay_discount) as quick_pay_discount,
        sum(queued_amount) as queued_amount,
        string_agg(invoice_status, ',' order by invoice_status) as invoice_statuses
    from {{ ref('fct_vendor_invoices') }}
    where invoice_status <> 'REJECTED'
    group by all
)

select
    po.account_id,
    po.purchase_order_number,
    po.purchase_order_status,
    po.purchase_order_at,
    po.currency,
    po.ordered_quantity,
    po.accepted_quantity,
    po.received_quantity,
    coalesce(invoiced.invoiced_quantity, 0) as invoiced_quantity,
    po.ordered_quantity - po.accepted_quantity as not_accepted_quantity,
    po.accepted_quantity - po.received_quantity as not_received_quantity,
    po.received_quantity - coalesce(invoiced.invoiced_quantity, 0) as received_not_invoiced_quantity,
    cast(po.ordered_value as decimal(18, 2)) as ordered_value,
    cast(po.accepted_value as decimal(18, 2)) as accepted_value,
    cast(po.received_value as decimal(18, 2)) as received_value,
    cast(coalesce(invoiced.invoiced_amount, 0) as decimal(18, 2)) as invoiced_amount,
    cast(coalesce(invoice_state.paid_amount, 0) as decimal(18, 2)) as paid_amount,
    cast(coalesce(invoice_state.queued_amount, 0) as decimal(18, 2)) as queued_amount,
    cast(coalesce(invoice_state.deducted_amount, 0) as decimal(18, 2)) as deducted_amount,
    cast(coalesce(invoice_state.quick_pay_discount, 0) as decimal(18, 2)) as quick_pay_discount,
    cast(po.received_value - coalesce(invoiced.invoiced_amount, 0) as decimal(18, 2)) as received_minus_invoiced,
    cast(
        coalesce(invoiced.invoiced_amount, 0) - coalesce(invoice_state.paid_amount, 0)
        - coalesce(invoice_state.deducted_amount, 0) - coalesce(invoice_state.quick_pay_discount, 0)
        as decimal(18, 2)
    ) as invoiced_not_settled,
    invoice_state.invoice_statuses
from po
left join invoiced using (account_id, purchase_order_number)
left join invoice_state using (account_id, purchase_order_number)
