-- A payout reconciles when the sum of its lines equals the report's total-amount exactly. It is never "fixed".
-- Incremental by settlement: a build sums the lines of the settlements that are new or re-issued (a new
-- raw_sha256) only, and a re-issue replaces the earlier version's row (macros/changed_settlements.sql).
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns', pre_hook="{{ log_built_whole() }}",
          post_hook="{{ keep_settlement_versions() }}") }}

with all_settlements as (
    select * from {{ ref('stg_lake_settlements__settlements') }}
),

settlements as (
    select * from all_settlements
    {{ changed_settlements_only(ref('stg_lake_settlements__settlements')) }}
),

line_totals as (
    select
        settlement_id,
        sum(amount) as lines_total,
        count(*) as line_count
    from {{ ref('stg_lake_settlements__settlement_lines') }}
    {{ changed_settlements_only(ref('stg_lake_settlements__settlements')) }}
    group by settlement_id
),

final as (
    select
        settlements.settlement_id,
        settlements.account_id,
        settlements.marketplace_name,
        settlements.currency,
        settlements.source_layout,
        settlements.period_start_at,
        settlements.period_end_at,
        settlements.deposit_at,
        settlements.total_amount,
        cast(coalesce(line_totals.lines_total, 0) as decimal(18, 2)) as lines_total,
        coalesce(line_totals.line_count, 0) as line_count,
        settlements.total_amount = coalesce(line_totals.lines_total, 0) as is_reconciled,
        settlements.raw_sha256
    from settlements
    left join line_totals on settlements.settlement_id = line_totals.settlement_id
)

select * from final
