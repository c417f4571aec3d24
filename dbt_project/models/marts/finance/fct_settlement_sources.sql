-- One row per settlement, with every source ACORN has for its money side by side:
--   report_total                 the settlement report's total-amount (the payout);
--   summary_net_proceeds         Finances 2024-06-19 listSummary's netProceeds for the settlement id;
--   released_transactions_total  the released transactions (RELEASED, DEFERRED_RELEASED) carrying its id;
--   event_group_total            the original total of its v0 financial event group, for accounts reading v0
--                                events (the group named by its released transactions, else the payout match).
-- Only final sources are compared: a report and a summary are (Amazon issues them for closed settlements); a
-- group once Closed; the released transactions once the lake's transactions reach the settlement's end. Amazon
-- lists transactions only up to two minutes before a request, so a run right after a period ends has not seen
-- the settlement's last postings yet (nor the open settlement's newest ones), while listSummary and the closed
-- group already state the whole settlement.
-- sources_agree is true when every final source present equals the report total (without a report: the summary,
-- else the transactions).
with reports as (
    select account_id, settlement_id, currency, total_amount as report_total, period_end_at
    from {{ ref('stg_lake_settlements__settlements') }}
),

summaries as (
    select
        account_id,
        settlement_id,
        any_value(currency) as currency,
        sum(net_proceeds) as summary_net_proceeds,
        max(period_end_at) as period_end_at
    from {{ ref('stg_lake_finance__settlement_summaries') }}
    where settlement_id is not null
    group by account_id, settlement_id
),

listed as (
    -- How far the account's transaction listing has reached. Each run lists one contiguous posted-date range,
    -- from before the newest transaction already landed (and from the oldest still DEFERRED, so a release is
    -- seen) up to two minutes before its request. Once a transaction posted at or after a settlement's end has
    -- landed, every transaction posted before that end has landed too, with its status after the end. Money is
    -- posted no later than it is released, so that settlement's released transactions are then all in the lake.
    select account_id, max(posted_at) as newest_posted_at
    from {{ ref('int_transactions_totaled') }}
    group by account_id
),

released as (
    select
        account_id,
        settlement_id,
        any_value(currency) as currency,
        sum(total_amount) as released_transactions_total,
        count(*) as released_transaction_count
    from {{ ref('int_transactions_totaled') }}
    where is_released and settlement_id is not null
    group by account_id, settlement_id
),

v0_accounts as (
    -- "Where that source is on": accounts whose v0 events reach the lake.
    select distinct account_id from {{ ref('stg_lake_finance__financial_events') }}
),

transaction_links as (
    -- Amazon's own link: released transactions naming both the settlement and the group.
    select account_id, settlement_id, min(financial_event_group_id) as financial_event_group_id
    from {{ ref('int_transactions_totaled') }}
    where is_released and settlement_id is not null and financial_event_group_id is not null
    group by account_id, settlement_id
    having count(distinct financial_event_group_id) = 1
),

group_links as (
    select
        coalesce(transaction_links.account_id, matches.account_id) as account_id,
        coalesce(transaction_links.settlement_id, matches.settlement_id) as settlement_id,
        coalesce(transaction_links.financial_event_group_id, matches.financial_event_group_id)
            as financial_event_group_id,
        case when transaction_links.settlement_id is not null then 'transactions' else 'match_rule' end
            as event_group_link
    from transaction_links
    full outer join {{ ref('int_payouts_matched_to_groups') }} as matches
        on transaction_links.account_id = matches.account_id
        and transaction_links.settlement_id = matches.settlement_id
),

event_groups as (
    select
        group_links.account_id,
        group_links.settlement_id,
        group_links.financial_event_group_id,
        group_links.event_group_link,
        case when v0_accounts.account_id is not null then groups.original_total end as event_group_total,
        groups.processing_status,
        groups.ended_at
    from group_links
    inner join {{ ref('stg_lake_finance__financial_event_groups') }} as groups
        on group_links.account_id = groups.account_id
        and group_links.financial_event_group_id = groups.financial_event_group_id
    left join v0_accounts on group_links.account_id = v0_accounts.account_id
),

settlement_ids as (
    select account_id, settlement_id from reports
    union
    select account_id, settlement_id from summaries
    union
    select account_id, settlement_id from released
),

joined as (
    select
        settlement_ids.settlement_id,
        settlement_ids.account_id,
        coalesce(reports.currency, summaries.currency, released.currency) as currency,
        reports.report_total,
        summaries.summary_net_proceeds,
        released.released_transactions_total,
        coalesce(released.released_transaction_count, 0) as released_transaction_count,
        event_groups.financial_event_group_id,
        event_groups.event_group_link,
        event_groups.event_group_total,
        -- The end of the period (exclusive), as any source states it; null while the settlement is open.
        greatest(reports.period_end_at, summaries.period_end_at, event_groups.ended_at) as settlement_end_at,
        listed.newest_posted_at,
        event_groups.processing_status
    from settlement_ids
    left join reports
        on settlement_ids.account_id = reports.account_id
        and settlement_ids.settlement_id = reports.settlement_id
    left join summaries
        on settlement_ids.account_id = summaries.account_id
        and settlement_ids.settlement_id = summaries.settlement_id
    left join released
        on settlement_ids.account_id = released.account_id
        and settlement_ids.settlement_id = released.settlement_id
    left join event_groups
        on settlement_ids.account_id = event_groups.account_id
        and settlement_ids.settlement_id = event_groups.settlement_id
    left join listed
        on settlement_ids.account_id = listed.account_id
),

finality as (
    select
        *,
        coalesce(newest_posted_at >= settlement_end_at, false) as transactions_complete,
        event_group_total is not null and processing_status is distinct from 'Open' as event_group_final
    from joined
),

combined as (
    select
        *,
        coalesce(
            report_total,
            summary_net_proceeds,
            case when transactions_complete then released_transactions_total end
        ) as reference_total,
        case when transactions_complete then released_transactions_total end as compared_transactions_total,
        case when event_group_final then event_group_total end as compared_event_group_total
    from finality
),

final as (
    select
        settlement_id,
        account_id,
        currency,
        cast(report_total as decimal(18, 2)) as report_total,
        cast(summary_net_proceeds as decimal(18, 2)) as summary_net_proceeds,
        cast(released_transactions_total as decimal(18, 2)) as released_transactions_total,
        cast(released_transaction_count as bigint) as released_transaction_count,
        financial_event_group_id,
        event_group_link,
        cast(event_group_total as decimal(18, 2)) as event_group_total,
        settlement_end_at,
        transactions_complete,
        cast(summary_net_proceeds - reference_total as decimal(18, 2)) as summary_difference,
        cast(released_transactions_total - reference_total as decimal(18, 2)) as transactions_difference,
        cast(event_group_total - reference_total as decimal(18, 2)) as event_group_difference,
        cast(
            (report_total is not null)::int
            + (summary_net_proceeds is not null)::int
            + (compared_transactions_total is not null)::int
            + (compared_event_group_total is not null)::int
            as integer
        ) as sources_compared,
        coalesce(summary_net_proceeds = reference_total, true)
        and coalesce(compared_transactions_total = reference_total, true)
        and coalesce(compared_event_group_total = reference_total, true) as sources_agree
    from combined
)

select * from final
