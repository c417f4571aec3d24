with source as (
    select * from {{ source('lake_settlements', 'settlement_lines') }}
),

renamed as (
    select
        cast(settlement_id as varchar) as settlement_id,
        cast(line_number as bigint) as line_number,
        cast(source_line as bigint) as source_line,
        cast(account_id as varchar) as account_id,
        cast(source_layout as varchar) as source_layout,
        cast({{ canonical_marketplace_name("source.marketplace_name") }} as varchar) as marketplace_name,
        cast(currency as varchar) as currency,
        cast(transaction_type as varchar) as transaction_type,
        cast(order_id as varchar) as order_id,
        cast(merchant_order_id as varchar) as merchant_order_id,
        cast(adjustment_id as varchar) as adjustment_id,
        cast(shipment_id as varchar) as shipment_id,
        cast(amount_type as varchar) as amount_type,
        cast(amount_description as varchar) as amount_description,
        cast(amount as decimal(18, 2)) as amount,
        cast(posted_at as timestamptz) as posted_at,
        cast(posted_date as date) as posted_date,
        cast(sku as varchar) as sku,
        cast(quantity as integer) as quantity,
        cast(fulfillment_id as varchar) as fulfillment_id,
        cast(order_item_code as varchar) as order_item_code,
        cast(promotion_id as varchar) as promotion_id,
        cast(extra_columns as varchar) as extra_columns,
        cast(raw_sha256 as varchar) as raw_sha256
    from source
)

select * from renamed
