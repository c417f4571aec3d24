with source as (
    select * from {{ source('lake_finance', 'balances') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(partner_id as varchar) as partner_id,
        cast(account_type as varchar) as account_type,
        cast(marketplace_id as varchar) as marketplace_id,
        cast(as_of as timestamptz) as as_of,
        cast(last_updated_at as timestamptz) as last_updated_at,
        cast(balance_index as integer) as balance_index,
        cast(balance_path as varchar) as balance_path,
        cast(balance_type as varchar) as balance_type,
        cast(parent_balance_type as varchar) as parent_balance_type,
        cast(depth as integer) as depth,
        cast(amount as decimal(18, 2)) as amount,
        cast(currency as varchar) as currency
    from source
)

select * from renamed
