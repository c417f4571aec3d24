-- Amazon documents no key between a settlement and a financial event group, so they are matched on what both
-- state: same account and currency, equal totals to the cent, and a deposit date within one day of the group's
-- fund transfer date. A pair is kept only when each is the other's best candidate (closest in time, then the
-- smallest id), so one settlement never takes two groups and one group never pays two settlements.
with payouts as (
    select settlement_id, account_id, currency, total_amount, deposit_at
    from {{ ref('stg_lake_settlements__settlements') }}
    where deposit_at is not null
),

groups as (
    select account_id, financial_event_group_id, currency, original_total, fund_transfer_at
    from {{ ref('stg_lake_finance__financial_event_groups') }}
    where fund_transfer_at is not null and original_total is not null
),

candidates as (
    select
        payouts.settlement_id,
        payouts.account_id,
        groups.financial_event_group_id,
        abs(epoch(payouts.deposit_at) - epoch(groups.fund_transfer_at)) as seconds_apart
    from payouts
    inner join groups
        on payouts.account_id = groups.account_id
        and payouts.currency = groups.currency
        and payouts.total_amount = groups.original_total
        and abs(date_diff('day', cast(payouts.deposit_at as date), cast(groups.fund_transfer_at as date))) <= 1
),

ranked as (
    select
        *,
        row_number() over (
            partition by settlement_id order by seconds_apart, financial_event_group_id
        ) as rank_for_settlement,
        row_number() over (
            partition by account_id, financial_event_group_id order by seconds_apart, settlement_id
        ) as rank_for_group
    from candidates
),

final as (
    select settlement_id, account_id, financial_event_group_id, seconds_apart
    from ranked
    where rank_for_settlement = 1 and rank_for_group = 1
)

select * from final
