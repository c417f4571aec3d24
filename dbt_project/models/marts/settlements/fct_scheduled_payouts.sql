-- Payouts Amazon has announced that no settlement report covers yet: its expected payouts (Transfers
-- listExpectedPayouts, EU marketplaces) for periods that have ended, and its Closed financial event groups whose
-- fund transfer has not succeeded, when no settlement in fct_payouts matches them. Money Amazon stated is then in
-- the view before its settlement report arrives; once the report lands, the payout moves to fct_payouts.
with settled as (
    select settlement_id from {{ ref('fct_payouts') }}
),

matched_groups as (
    select account_id, financial_event_group_id from {{ ref('int_payouts_matched_to_groups') }}
),

marketplaces as (
    select marketplace_id, marketplace_name from {{ ref('marketplaces') }}
),

groups as (
    select * from {{ ref('stg_lake_finance__financial_event_groups') }}
),

-- How far the account's data reaches: the latest read of its event groups or balances. An expected payout whose
-- period ended by then is for a closed period (the open period's is its running balance: rpt_payout_forecast).
observed as (
    select account_id, max(observed_at) as observed_at
    from (
        select account_id, observed_at from groups
        union all
        select account_id, as_of from {{ ref('stg_lake_finance__balances') }}
    )
    group by account_id
),

closed_groups as (
    select *
    from groups
    where processing_status = 'Closed'
        and coalesce(fund_transfer_status, '') <> 'Succeeded'
        and not exists (
            select 1 from matched_groups
            where matched_groups.account_id = groups.account_id
                and matched_groups.financial_event_group_id = groups.financial_event_group_id
        )
),

expected_closed as (
    select expected.*
    from {{ ref('stg_lake_finance__expected_payouts') }} as expected
    left join observed on observed.account_id = expected.account_id
    where expected.period_end_at <= coalesce(observed.observed_at, expected.period_end_at)
        and not exists (select 1 from settled where settled.settlement_id = expected.settlement_id)
),

-- The same payout stated by both: same account, currency, period and amount.
from_expected as (
    select
        expected_closed.account_id,
        expected_closed.marketplace_id,
        expected_closed.currency,
        expected_closed.period_start_at,
        expected_closed.period_end_at,
        expected_closed.scheduled_at,
        expected_closed.amount,
        lower(expected_closed.status) as payout_status,
        'expected_payouts' as source,
        expected_closed.settlement_id,
        closed_groups.financial_event_group_id
    from expected_closed
    left join closed_groups
        on closed_groups.account_id = expected_closed.account_id
        and closed_groups.currency = expected_closed.currency
        and closed_groups.started_at = expected_closed.period_start_at
        and closed_groups.ended_at = expected_closed.period_end_at
        and closed_groups.original_total = expected_closed.amount
),

-- The marketplace of a group: the account's only marketplace paid in that currency, when it has one.
single_marketplace as (
    select account_id, currency, min(marketplace_name) as marketplace_name
    from {{ ref('fct_payouts') }}
    group by account_id, currency
    having count(distinct marketplace_name) = 1
),

from_groups as (
    select
        closed_groups.account_id,
        marketplaces.marketplace_id,
        closed_groups.currency,
        closed_groups.started_at as period_start_at,
        closed_groups.ended_at as period_end_at,
        closed_groups.fund_transfer_at as scheduled_at,
        closed_groups.original_total as amount,
        lower(coalesce(closed_groups.fund_transfer_status, 'closed')) as payout_status,
        'financial_event_group' as source,
        cast(null as varchar) as settlement_id,
        closed_groups.financial_event_group_id
    from closed_groups
    left join single_marketplace
        on single_marketplace.account_id = closed_groups.account_id
        and single_marketplace.currency = closed_groups.currency
    left join marketplaces on marketplaces.marketplace_name = single_marketplace.marketplace_name
    where closed_groups.financial_event_group_id not in (
        select financial_event_group_id from from_expected where financial_event_group_id is not null
    )
),

final as (
    select
        cast(coalesce(payouts.settlement_id, payouts.financial_event_group_id) as varchar) as payout_key,
        cast(payouts.account_id as varchar) as account_id,
        cast(payouts.marketplace_id as varchar) as marketplace_id,
        cast(marketplaces.marketplace_name as varchar) as marketplace_name,
        cast(payouts.currency as varchar) as currency,
        payouts.period_start_at,
        payouts.period_end_at,
        payouts.scheduled_at,
        cast(payouts.amount as decimal(18, 2)) as amount,
        cast(payouts.payout_status as varchar) as payout_status,
        cast(payouts.source as varchar) as source,
        cast(payouts.settlement_id as varchar) as settlement_id,
        cast(payouts.financial_event_group_id as varchar) as financial_event_group_id
    from (select * from from_expected union all select * from from_groups) as payouts
    left join marketplaces on marketplaces.marketplace_id = payouts.marketplace_id
)

select * from final
