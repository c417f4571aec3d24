with source as (
    select * from {{ source('lake_finance', 'expected_payouts') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(marketplace_id as varchar) as marketplace_id,
        cast(payout_index as integer) as payout_index,
        cast(partner_id as varchar) as partner_id,
        cast(account_type as varchar) as account_type,
        cast(status as varchar) as status,
        cast(scheduled_at as timestamptz) as scheduled_at,
        cast(period_start_at as timestamptz) as period_start_at,
        cast(period_end_at as timestamptz) as period_end_at,
        cast(amount as decimal(18, 2)) as amount,
        cast(currency as varchar) as currency,
        cast(payment_method as varchar) as payment_method,
        cast(account_tail_masked as varchar) as account_tail_masked,
        cast(settlement_id as varchar) as settlement_id
    from source
)

select * from renamed
