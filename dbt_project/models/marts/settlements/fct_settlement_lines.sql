{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns', pre_hook="{{ delete_changed_settlements(ref('stg_lake_settlements__settlements')) }}",
          post_hook="{{ keep_settlement_versions() }}") }}

with lines as (
    select * from {{ ref('int_settlement_lines_classified') }}
),

final as (
    select
        settlement_id,
        line_number,
        account_id,
        marketplace_name,
        currency,
        transaction_type,
        amount_type,
        amount_description,
        amount,
        posted_at,
        posted_date,
        order_id,
        sku,
        quantity,
        source_layout,
        line_class,
        is_fee,
        is_refund,
        fee_category,
        raw_sha256
    from lines
    {{ changed_settlements_only(ref('stg_lake_settlements__settlements')) }}
)

select * from final
