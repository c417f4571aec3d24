-- One row per transaction (current status): its total, whether its counted breakdown leaves add up to it, and
-- the identifiers every leaf row repeats (settlement, event group, maturity), taken once.
with totals as (
    select * from {{ ref('stg_lake_finance__transaction_totals') }}
),

leaves as (
    select * from {{ ref('stg_lake_finance__transactions') }}
),

attributes as (
    select
        account_id,
        transaction_id,
        any_value(marketplace_id) as marketplace_id,
        any_value(marketplace_name) as marketplace_name,
        any_value(order_id) as order_id,
        any_value(settlement_id) as settlement_id,
        any_value(financial_event_group_id) as financial_event_group_id,
        any_value(deferred_transaction_id) as deferred_transaction_id,
        any_value(release_transaction_id) as release_transaction_id,
        any_value(maturity_at) as maturity_at,
        any_value(deferral_reason) as deferral_reason
    from leaves
    group by account_id, transaction_id
),

final as (
    select
        totals.account_id,
        totals.transaction_id,
        totals.transaction_type,
        totals.transaction_status,
        totals.posted_at,
        totals.total_amount,
        totals.currency,
        totals.breakdown_source,
        totals.counted_rows,
        totals.breakdowns_sum,
        totals.breakdowns_agree,
        totals.subtotals_agree,
        attributes.marketplace_id,
        attributes.marketplace_name,
        attributes.order_id,
        attributes.settlement_id,
        attributes.financial_event_group_id,
        attributes.deferred_transaction_id,
        attributes.release_transaction_id,
        attributes.maturity_at,
        attributes.deferral_reason,
        totals.transaction_status in ('RELEASED', 'DEFERRED_RELEASED') as is_released,
        totals.transaction_status = 'DEFERRED' as is_deferred
    from totals
    left join attributes
        on totals.account_id = attributes.account_id
        and totals.transaction_id = attributes.transaction_id
)

select * from final
