with source as (
    select * from {{ source('lake_finance', 'transaction_status_history') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(transaction_id as varchar) as transaction_id,
        cast(transaction_status as varchar) as transaction_status,
        cast(first_observed_at as timestamptz) as first_observed_at
    from source
)

select * from renamed
