with source as (
    select * from {{ source('lake_finance', 'transaction_totals') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(transaction_id as varchar) as transaction_id,
        cast(transaction_type as varchar) as transaction_type,
        cast(transaction_status as varchar) as transaction_status,
        cast(posted_at as timestamptz) as posted_at,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(currency as varchar) as currency,
        cast(breakdown_source as varchar) as breakdown_source,
        cast(counted_rows as integer) as counted_rows,
        cast(breakdowns_sum as decimal(18, 2)) as breakdowns_sum,
        cast(breakdowns_agree as boolean) as breakdowns_agree,
        cast(subtotals_agree as boolean) as subtotals_agree
    from source
)

select * from renamed
