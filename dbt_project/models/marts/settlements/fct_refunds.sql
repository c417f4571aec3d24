{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns', pre_hook="{{ delete_changed_settlements(ref('stg_lake_settlements__settlements')) }}",
          post_hook=["{{ update_refund_quantities(ref('int_settlement_refund_quantities')) }}",
                     "{{ keep_settlement_versions() }}"]) }}
{%- set changed = changed_settlements_only(ref('stg_lake_settlements__settlements')) %}
{%- set ids = changed_settlement_ids(ref('stg_lake_settlements__settlements')) if is_incremental() else none %}

with lines as (
    select * from {{ ref('int_settlement_lines_classified') }}
    where line_class = 'refund'
),

changed_lines as (
    select * from lines
    {{ changed }}
),

-- The units a refund gave back (int_settlement_refund_quantities: the rule fct_sku_daily.units_refunded uses),
-- on the refund's ItemPrice/Principal line; settlement reports leave refund lines' quantity empty.
-- On an incremental run, the rule (macros/refund_quantities.sql) applied to the changed settlements' refund lines
-- only: what the view gives them, without looking up the orders of every refund of the history first (a filter
-- on the view narrows its refund lines, not the keys it sums the orders of).
refund_quantities as (
    {%- if ids is not none %}
    select * from (
        {{ refund_quantity_rule(model_relation('fct_settlement_lines'), model_relation('fct_transactions'),
                                refund_lines_where=settlement_id_in(ids)) }}
    )
    {%- else %}
    select * from {{ ref('int_settlement_refund_quantities') }}
    {{ changed }}
    {%- endif %}
),

final as (
    select
        lines.settlement_id,
        lines.line_number,
        lines.account_id,
        lines.marketplace_name,
        lines.posted_at,
        lines.order_id,
        lines.sku,
        lines.transaction_type,
        cast(coalesce(refund_quantities.refunded_quantity, lines.quantity) as integer) as quantity,
        lines.amount_type,
        lines.amount_description,
        lines.amount,
        lines.currency,
        lines.raw_sha256
    from changed_lines as lines
    left join refund_quantities
        on refund_quantities.settlement_id = lines.settlement_id
        and refund_quantities.line_number = lines.line_number
)

select * from final
