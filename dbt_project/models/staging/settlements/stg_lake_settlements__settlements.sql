with source as (
    select * from {{ source('lake_settlements', 'settlements') }}
),

renamed as (
    select
        cast(settlement_id as varchar) as settlement_id,
        cast(account_id as varchar) as account_id,
        cast(source_layout as varchar) as source_layout,
        cast({{ canonical_marketplace_name("source.marketplace_name") }} as varchar) as marketplace_name,
        cast(currency as varchar) as currency,
        cast(period_start_at as timestamptz) as period_start_at,
        cast(period_end_at as timestamptz) as period_end_at,
        cast(deposit_at as timestamptz) as deposit_at,
        cast(total_amount as decimal(18, 2)) as total_amount,
        cast(line_count as bigint) as reported_line_count,
        cast(raw_sha256 as varchar) as raw_sha256,
        cast(source_name as varchar) as source_name,
        cast(document_created_at as timestamptz) as document_created_at,
        cast("encoding" as varchar) as file_encoding,
        cast(decimal_style as varchar) as decimal_style
    from source
)

select * from renamed
