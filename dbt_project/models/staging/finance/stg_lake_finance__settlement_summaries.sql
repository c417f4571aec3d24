with source as (
    select * from {{ source('lake_finance', 'settlement_summaries') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(settlement_id as varchar) as settlement_id,
        cast(summary_index as integer) as summary_index,
        cast(partner_id as varchar) as partner_id,
        cast(account_type as varchar) as account_type,
        cast(marketplace_id as varchar) as marketplace_id,
        cast(period_start_at as timestamptz) as period_start_at,
        cast(period_end_at as timestamptz) as period_end_at,
        cast(net_proceeds as decimal(18, 2)) as net_proceeds,
        cast(currency as varchar) as currency,
        cast(leaves_sum as decimal(18, 2)) as leaves_sum,
        cast(leaves_agree as boolean) as leaves_agree
    from source
)

select * from renamed
