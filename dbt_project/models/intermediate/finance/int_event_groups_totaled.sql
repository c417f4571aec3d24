-- Per v0 financial event group, the sum of its event amounts, counted once: only additive amounts (components
-- and flat amounts; never totals that restate their components, nor the items that detail a parent amount).
with groups as (
    select * from {{ ref('stg_lake_finance__financial_event_groups') }}
),

events as (
    select * from {{ ref('stg_lake_finance__financial_events') }}
),

event_totals as (
    select
        account_id,
        financial_event_group_id,
        sum(amount) filter (where is_additive) as events_total,
        count(*) as component_count,
        count(distinct event_type) as event_type_count,
        count(distinct currency) filter (where is_additive and amount is not null) as currency_count
    from events
    group by account_id, financial_event_group_id
),

final as (
    select
        groups.account_id,
        groups.financial_event_group_id,
        groups.currency,
        groups.processing_status,
        groups.fund_transfer_status,
        groups.fund_transfer_at,
        groups.started_at,
        groups.ended_at,
        groups.original_total,
        groups.beginning_balance,
        event_totals.financial_event_group_id is not null as has_events,
        cast(coalesce(event_totals.events_total, 0) as decimal(18, 2)) as events_total,
        coalesce(event_totals.component_count, 0) as component_count,
        coalesce(event_totals.event_type_count, 0) as event_type_count,
        coalesce(event_totals.currency_count, 0) as currency_count
    from groups
    left join event_totals
        on groups.account_id = event_totals.account_id
        and groups.financial_event_group_id = event_totals.financial_event_group_id
)

select * from final
