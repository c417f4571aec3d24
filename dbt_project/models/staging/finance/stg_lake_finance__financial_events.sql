with source as (
    select * from {{ source('lake_finance', 'financial_events') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(financial_event_group_id as varchar) as financial_event_group_id,
        cast(source_sha256 as varchar) as source_sha256,
        cast(component_key as varchar) as component_key,
        cast(event_list as varchar) as event_list,
        cast(event_type as varchar) as event_type,
        cast(event_index as integer) as event_index,
        cast(event_subtype as varchar) as event_subtype,
        cast(posted_at as timestamptz) as posted_at,
        cast(order_id as varchar) as order_id,
        cast(seller_order_id as varchar) as seller_order_id,
        cast({{ canonical_marketplace_name("source.marketplace_name", "source.marketplace_id") }} as varchar) as marketplace_name,
        cast(marketplace_id as varchar) as marketplace_id,
        cast(sku as varchar) as sku,
        cast(fnsku as varchar) as fnsku,
        cast(asin as varchar) as asin,
        cast(order_item_id as varchar) as order_item_id,
        cast(order_adjustment_item_id as varchar) as order_adjustment_item_id,
        cast(quantity as bigint) as quantity,
        cast(component_kind as varchar) as component_kind,
        cast(component_type as varchar) as component_type,
        cast(amount_field as varchar) as amount_field,
        cast(promotion_id as varchar) as promotion_id,
        cast(tax_collection_model as varchar) as tax_collection_model,
        cast(amount as decimal(18, 2)) as amount,
        cast(currency as varchar) as currency,
        cast(is_additive as boolean) as is_additive,
        cast(is_modelled as boolean) as is_modelled
    from source
)

select * from renamed
