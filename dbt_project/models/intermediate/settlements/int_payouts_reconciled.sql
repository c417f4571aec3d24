-- A payout reconciles when the sum of its lines equals the report's total-amount exactly. It is never "fixed".
with settlements as (
    select * from {{ ref('stg_lake_settlements__settlements') }}
),

line_totals as (
    select
        settlement_id,
        sum(amount) as lines_total,
        count(*) as line_count
    from {{ ref('stg_lake_settlements__settlement_lines') }}
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
        settlements.total_amount = coalesce(line_totals.lines_total, 0) as is_reconciled
    from settlements
    left join line_totals on settlements.settlement_id = line_totals.settlement_id
)

select * from final
