-- The units each refund gave back, one rule for every mart (fct_sku_daily.units_refunded, fct_refunds.quantity).
-- Settlement reports give no quantity on refund lines: a refund of an order's SKU takes the quantity Amazon's
-- Finances refund transaction states for that order and SKU, else the quantity the order bought of it (its
-- Principal lines in the reports ACORN holds). The quantity sits on the refund's ItemPrice/Principal line only,
-- so summing it counts each refunded unit once.
-- `not materialized`: DuckDB would otherwise materialize a CTE read twice, whole, before a caller's filter (a
-- build's new settlements) could narrow it.
with settlement_lines as not materialized (
    select * from {{ ref('fct_settlement_lines') }}
),

refund_lines as not materialized (
    select * from settlement_lines
    where transaction_type = 'Refund' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        and sku is not null
),

-- Only the orders refunded: a filter on the refunds (a build's new settlements) then narrows the sum too.
order_quantities as (
    select account_id, order_id, sku, sum(quantity) as quantity
    from settlement_lines
    semi join (select distinct account_id, order_id, sku from refund_lines) as refunded
        using (account_id, order_id, sku)
    where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        and order_id is not null and quantity is not null
    group by all
),

refund_transaction_quantities as (
    select account_id, order_id, sku, max(quantity) as quantity
    from {{ ref('fct_transactions') }}
    where transaction_type = 'Refund' and breakdown_type = 'ProductCharges' and quantity is not null
        and order_id is not null and sku is not null
    group by all
),

final as (
    select
        settlement_lines.settlement_id,
        settlement_lines.line_number,
        -- Where the refund lands in fct_sku_daily: its line's account, marketplace, currency, SKU and time.
        settlement_lines.account_id,
        settlement_lines.marketplace_name,
        settlement_lines.currency,
        settlement_lines.sku,
        settlement_lines.posted_at,
        cast(coalesce(
            settlement_lines.quantity, refund_transaction_quantities.quantity, order_quantities.quantity
        ) as integer) as refunded_quantity
    from refund_lines as settlement_lines
    left join order_quantities
        on order_quantities.account_id = settlement_lines.account_id
        and order_quantities.order_id = settlement_lines.order_id
        and order_quantities.sku = settlement_lines.sku
    left join refund_transaction_quantities
        on refund_transaction_quantities.account_id = settlement_lines.account_id
        and refund_transaction_quantities.order_id = settlement_lines.order_id
        and refund_transaction_quantities.sku = settlement_lines.sku
)

select * from final
