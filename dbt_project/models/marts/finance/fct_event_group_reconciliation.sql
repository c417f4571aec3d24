-- a group's events are its v0 financial events (additive amounts only) when the account reads v0 events, else
-- the released 2024-06-19 transactions that name the group. It reconciles when they add up to the group's
-- original total exactly; with no event source at all it is neither (null).
with groups as (
    select * from {{ ref('int_event_groups_totaled') }}
),

transactions as (
    select
        account_id,
        financial_event_group_id,
        sum(total_amount) as transactions_total,
        count(*) as transaction_count
    from {{ ref('int_transactions_totaled') }}
    where is_released and financial_event_group_id is not null
    group by account_id, financial_event_group_id
),

matches as (
    select * from {{ ref('int_payouts_matched_to_groups') }}
),

combined as (
    select
        groups.*,
        transactions.transactions_total,
        coalesce(transactions.transaction_count, 0) as transaction_count,
        matches.settlement_id,
        case
            when groups.has_events then 'v0_events'
            when transactions.financial_event_group_id is not null then 'transactions'
        end as events_source
    from groups
    left join transactions
        on groups.account_id = transactions.account_id
        and groups.financial_event_group_id = transactions.financial_event_group_id
    left join matches
        on groups.account_id = matches.account_id
        and groups.financial_event_group_id = matches.financial_event_group_id
),

final as (
    select
        financial_event_group_id,
        account_id,
        currency,
        processing_status,
        fund_transfer_status,
        fund_transfer_at,
        started_at,
        ended_at,
        original_total,
        events_source,
        cast(
            case events_source
                when 'v0_events' then events_total
                when 'transactions' then transactions_total
            end as decimal(18, 2)
        ) as events_total,
        cast(transactions_total as decimal(18, 2)) as transactions_total,
        cast(
            original_total - case events_source
                when 'v0_events' then events_total
                when 'transactions' then transactions_total
            end as decimal(18, 2)
        ) as difference,
        cast(component_count as bigint) as component_count,
        cast(transaction_count as bigint) as transaction_count,
        settlement_id,
        case
            when events_source is null then null
            else original_total = case events_source
                when 'v0_events' then events_total
                when 'transactions' then transactions_total
            end
        end as is_reconciled
    from combined
)

select * from final
