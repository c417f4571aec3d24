with payouts as (
    select * from {{ ref('int_payouts_reconciled') }}
),

group_matches as (
    -- The payout <-> financial event group match rule is documented in int_payouts_matched_to_groups.
    select settlement_id as matched_settlement_id, financial_event_group_id
    from {{ ref('int_payouts_matched_to_groups') }}
),

final as (
    select
        settlement_id,
        account_id,
        marketplace_name,
        currency,
        period_start_at,
        period_end_at,
        deposit_at,
        total_amount,
        lines_total,
        cast(total_amount - lines_total as decimal(18, 2)) as difference,
        is_reconciled,
        line_count,
        source_layout,
        -- Filled by the finance layer when a settlement matches a v0 financial event group.
        group_matches.financial_event_group_id
    from payouts
    left join group_matches on payouts.settlement_id = group_matches.matched_settlement_id
)

select * from final
