with source as (
    select * from {{ source('lake_finance', 'financial_event_groups') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(financial_event_group_id as varchar) as financial_event_group_id,
        cast(processing_status as varchar) as processing_status,
        cast(fund_transfer_status as varchar) as fund_transfer_status,
        cast(fund_transfer_at as timestamptz) as fund_transfer_at,
        cast(original_total as decimal(18, 2)) as original_total,
        cast(original_total_currency as varchar) as currency,
        cast(converted_total as decimal(18, 2)) as converted_total,
        cast(converted_total_currency as varchar) as converted_currency,
        cast(beginning_balance as decimal(18, 2)) as beginning_balance,
        cast(trace_id as varchar) as trace_id,
        cast(account_tail_masked as varchar) as account_tail_masked,
        cast(started_at as timestamptz) as started_at,
        cast(ended_at as timestamptz) as ended_at,
        cast(observed_at as timestamptz) as observed_at
    from source
)

select * from renamed
