with components as (
    select * from {{ ref('stg_lake_finance__financial_events') }}
),

-- The fee_taxonomy seed's `financial_event` rows. An empty amount_type matches any; when several rows match, the
-- longest amount_type (the most specific) wins.
taxonomy as (
    select
        nullif(trim(amount_type), '') as amount_type,
        amount_description,
        fee_category
    from {{ ref('fee_taxonomy') }}
    where source = 'financial_event'
),

categorised as (
    select
        components.source_sha256,
        components.component_key,
        taxonomy.fee_category,
        row_number() over (
            partition by components.source_sha256, components.component_key
            order by length(coalesce(taxonomy.amount_type, '')) desc, taxonomy.fee_category
        ) as preference
    from components
    inner join taxonomy
        on components.component_type = taxonomy.amount_description
        and (taxonomy.amount_type is null or components.component_kind = taxonomy.amount_type)
),

final as (
    select
        components.account_id,
        components.financial_event_group_id,
        components.source_sha256,
        components.component_key,
        components.event_type,
        components.event_list,
        components.event_index,
        components.event_subtype,
        components.posted_at,
        components.order_id,
        components.seller_order_id,
        components.marketplace_name,
        components.marketplace_id,
        components.sku,
        components.asin,
        components.order_item_id,
        components.order_adjustment_item_id,
        components.quantity,
        components.component_kind,
        components.component_type,
        components.amount_field,
        components.promotion_id,
        components.amount,
        components.currency,
        components.is_additive,
        categorised.fee_category
    from components
    left join categorised
        on components.source_sha256 = categorised.source_sha256
        and components.component_key = categorised.component_key
        and categorised.preference = 1
)

select * from final
