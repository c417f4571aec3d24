-- One row per ACORN account that has settlements: its currencies, marketplaces and settlement history.
with payouts as (
    select * from {{ ref('fct_payouts') }}
    where account_id is not null
),

final as (
    select
        account_id,
        string_agg(distinct currency, ',' order by currency) as currencies,
        string_agg(distinct marketplace_name, ',' order by marketplace_name) as marketplace_names,
        count(*) as settlement_count,
        count(*) filter (where not is_reconciled) as unreconciled_settlement_count,
        min(period_start_at) as first_period_start_at,
        max(period_end_at) as last_period_end_at,
        max(deposit_at) as last_deposit_at
    from payouts
    group by account_id
)

select * from final
