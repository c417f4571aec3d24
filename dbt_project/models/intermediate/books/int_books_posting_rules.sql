-- The posting rules seed with empty match columns as null (an empty column matches anything).
with rules as (
    select * from {{ ref('posting_rules') }}
),

final as (
    select
        cast(rule_id as varchar) as rule_id,
        nullif(trim(source), '') as source,
        nullif(trim(transaction_type), '') as transaction_type,
        nullif(trim(amount_type), '') as amount_type,
        nullif(trim(amount_description), '') as amount_description,
        nullif(trim(fee_category), '') as fee_category,
        nullif(trim(marketplace), '') as marketplace,
        nullif(trim(fulfilment_channel), '') as fulfilment_channel,
        nullif(trim(sku_group), '') as sku_group,
        category,
        account_key,
        tax_key,
        description,
        cast(rule_version as varchar) as rule_version
    from rules
)

select * from final
