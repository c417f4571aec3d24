-- Per settlement: what orders sold (principal), every fee line, the principal refunded, and how many orders
-- and refunded orders: what the fee and refund rate anomaly checks compare across settlements
-- (orchestration/quality/warehouse_frames.py). Incremental by settlement like the line facts, so that a build
-- sums the new and re-issued settlements only instead of every line of the history.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns', pre_hook="{{ delete_changed_settlements(ref('stg_lake_settlements__settlements')) }}",
          post_hook="{{ keep_settlement_versions() }}") }}

with lines as (
    select settlement_id, raw_sha256, transaction_type, amount_type, amount_description, amount, line_class, order_id
    from {{ ref('int_settlement_lines_classified') }}
    {{ changed_settlements_only(ref('stg_lake_settlements__settlements')) }}
),

sums as (
    select
        settlement_id,
        any_value(raw_sha256) as raw_sha256,
        sum(amount) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice'
              and amount_description = 'Principal') as order_principal,
        sum(amount) filter (where line_class = 'fee') as fees,
        sum(amount) filter (
            where transaction_type = 'Refund' and amount_type = 'ItemPrice'
              and amount_description = 'Principal') as refunded_principal
    from lines
    group by settlement_id
),

-- Distinct orders from one row per (settlement, type, order), which DuckDB can spill to disk.
orders as (
    select
        settlement_id,
        count(*) filter (where transaction_type = 'Order') as order_count,
        count(*) filter (where transaction_type = 'Refund') as refund_count
    from (
        select distinct settlement_id, transaction_type, order_id
        from lines
        where transaction_type in ('Order', 'Refund') and order_id is not null
    )
    group by settlement_id
),

final as (
    select
        sums.settlement_id,
        sums.order_principal,
        sums.fees,
        sums.refunded_principal,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.refund_count, 0) as refund_count,
        sums.raw_sha256
    from sums
    left join orders on sums.settlement_id = orders.settlement_id
)

select * from final
