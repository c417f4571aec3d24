-- Per account, marketplace and currency (the unit Amazon pays out: two marketplaces of one account in one
-- currency are two payouts): the open settlement period, what it holds so far, when it should end, when its
-- payout should reach the bank (learned from this marketplace's history), and the payout to expect with a range.
--
-- Beside ACORN's estimate (the trailing median of this marketplace's payouts) it shows the money already certain
-- for the period: the open balance plus the deferred money (DD+7, B2B) of this marketplace that matures before
-- the period's expected end (rpt_deferred_schedule); and, where Amazon states one (Transfers
-- listExpectedPayouts, EU marketplaces), Amazon's own expected payout for the same marketplace and period, side
-- by side, never blended. A payout Amazon announced for a period that has ended but that no settlement report
-- covers yet is in fct_scheduled_payouts: the open period starts after it.
{%- set trailing = 8 %}
with payouts as (
    select * from {{ ref('fct_payouts') }}
    where account_id is not null and period_end_at is not null
),

scheduled as (
    select account_id, marketplace_name, currency, max(period_end_at) as scheduled_period_end_at
    from {{ ref('fct_scheduled_payouts') }}
    where marketplace_name is not null
    group by all
),

periods as (
    select
        *,
        row_number() over (
            partition by account_id, marketplace_name, currency order by period_end_at desc
        ) as periods_back
    from payouts
),

history as (
    select
        account_id,
        marketplace_name,
        currency,
        count(*) as payout_history_count,
        max(period_end_at) as last_settled_period_end_at,
        median(epoch(period_end_at) - epoch(period_start_at)) as typical_period_seconds,
        median(epoch(deposit_at) - epoch(period_end_at)) as typical_deposit_lag_seconds,
        median(total_amount) filter (where periods_back <= {{ trailing }}) as expected_amount,
        quantile_cont(total_amount, 0.1) filter (where periods_back <= {{ trailing }}) as expected_amount_low,
        quantile_cont(total_amount, 0.9) filter (where periods_back <= {{ trailing }}) as expected_amount_high
    from periods
    group by account_id, marketplace_name, currency
),

with_open_start as (
    select
        history.*,
        greatest(
            history.last_settled_period_end_at,
            coalesce(scheduled.scheduled_period_end_at, history.last_settled_period_end_at)
        ) as open_period_start_at
    from history
    left join scheduled
        on scheduled.account_id = history.account_id
        and scheduled.marketplace_name = history.marketplace_name
        and scheduled.currency = history.currency
),

marketplaces as (
    select marketplace_id, marketplace_name from {{ ref('marketplaces') }}
),

-- Amazon's expected payouts, per marketplace.
amazon_expected as (
    select expected.*, marketplaces.marketplace_name
    from {{ ref('stg_lake_finance__expected_payouts') }} as expected
    inner join marketplaces on marketplaces.marketplace_id = expected.marketplace_id
),

-- What the open period holds so far. The v0 financial event groups name no marketplace: an Open group is this
-- marketplace's when it is the account's only marketplace paid in that currency. Otherwise Amazon's expected
-- payout for the open period of this marketplace states its running balance.
single_marketplace as (
    select account_id, currency, min(marketplace_name) as marketplace_name
    from payouts
    group by account_id, currency
    having count(distinct marketplace_name) = 1
),

open_groups as (
    select
        groups.account_id,
        single_marketplace.marketplace_name,
        groups.currency,
        sum(groups.original_total) as balance_so_far,
        max(groups.observed_at) as balance_observed_at
    from {{ ref('stg_lake_finance__financial_event_groups') }} as groups
    inner join single_marketplace
        on single_marketplace.account_id = groups.account_id
        and single_marketplace.currency = groups.currency
    where groups.processing_status = 'Open'
    group by all
),

forecast as (
    select
        with_open_start.*,
        open_period_start_at + to_seconds(cast(typical_period_seconds as bigint)) as expected_period_end_at,
        open_period_start_at
            + to_seconds(cast(typical_period_seconds as bigint))
            + to_seconds(cast(coalesce(typical_deposit_lag_seconds, 0) as bigint)) as expected_deposit_at
    from with_open_start
),

-- Amazon's expected payout for the same payout: same marketplace, the period that starts where the open one does.
amazon_same_payout as (
    select
        forecast.account_id,
        forecast.marketplace_name,
        forecast.currency,
        sum(amazon_expected.amount) as amazon_expected_amount,
        min(amazon_expected.scheduled_at) as amazon_expected_at
    from forecast
    inner join amazon_expected
        on amazon_expected.account_id = forecast.account_id
        and amazon_expected.marketplace_name = forecast.marketplace_name
        and amazon_expected.currency = forecast.currency
        and amazon_expected.period_start_at = forecast.open_period_start_at
    group by all
),

deferred_in_period as (
    select
        forecast.account_id,
        forecast.marketplace_name,
        forecast.currency,
        sum(deferred.deferred_amount) as deferred_maturing_in_period
    from forecast
    inner join {{ ref('rpt_deferred_schedule') }} as deferred
        on deferred.account_id = forecast.account_id
        and deferred.marketplace_name = forecast.marketplace_name
        and deferred.currency = forecast.currency
        and deferred.maturity_date <= cast(forecast.expected_period_end_at as date)
    group by all
),

rates as (
    select * from {{ ref('int_fx_rates_to_reporting') }}
),

joined as (
    select
        forecast.*,
        marketplaces.marketplace_id,
        coalesce(open_groups.balance_so_far, amazon_same_payout.amazon_expected_amount) as balance_so_far,
        case
            when open_groups.balance_so_far is not null then 'financial_event_groups'
            when amazon_same_payout.amazon_expected_amount is not null then 'expected_payouts'
        end as balance_source,
        open_groups.balance_observed_at,
        deferred_in_period.deferred_maturing_in_period,
        amazon_same_payout.amazon_expected_amount,
        amazon_same_payout.amazon_expected_at,
        rates.rate as fx_rate
    from forecast
    left join marketplaces on marketplaces.marketplace_name = forecast.marketplace_name
    left join open_groups
        on open_groups.account_id = forecast.account_id
        and open_groups.marketplace_name = forecast.marketplace_name
        and open_groups.currency = forecast.currency
    left join amazon_same_payout
        on amazon_same_payout.account_id = forecast.account_id
        and amazon_same_payout.marketplace_name = forecast.marketplace_name
        and amazon_same_payout.currency = forecast.currency
    left join deferred_in_period
        on deferred_in_period.account_id = forecast.account_id
        and deferred_in_period.marketplace_name = forecast.marketplace_name
        and deferred_in_period.currency = forecast.currency
    asof left join rates
        on forecast.currency = rates.currency
        and cast(forecast.expected_deposit_at as date) >= rates.rate_date
),

final as (
    select
        account_id,
        cast(marketplace_id as varchar) as marketplace_id,
        cast(marketplace_name as varchar) as marketplace_name,
        currency,
        cast(payout_history_count as bigint) as payout_history_count,
        open_period_start_at,
        expected_period_end_at,
        expected_deposit_at,
        cast(round(typical_period_seconds / 86400, 2) as decimal(9, 2)) as typical_period_days,
        cast(round(typical_deposit_lag_seconds / 86400, 2) as decimal(9, 2)) as typical_deposit_lag_days,
        cast(balance_so_far as decimal(18, 2)) as balance_so_far,
        cast(balance_source as varchar) as balance_source,
        balance_observed_at,
        cast(round(expected_amount, 2) as decimal(18, 2)) as expected_amount,
        cast(round(expected_amount_low, 2) as decimal(18, 2)) as expected_amount_low,
        cast(round(expected_amount_high, 2) as decimal(18, 2)) as expected_amount_high,
        cast(coalesce(deferred_maturing_in_period, 0) as decimal(18, 2)) as deferred_maturing_in_period,
        cast(coalesce(balance_so_far, 0) + coalesce(deferred_maturing_in_period, 0) as decimal(18, 2))
            as known_amount_by_period_end,
        cast(amazon_expected_amount as decimal(18, 2)) as amazon_expected_amount,
        amazon_expected_at,
        cast('{{ var("reporting_currency") }}' as varchar) as reporting_currency,
        fx_rate,
        cast(round(expected_amount * fx_rate, 2) as decimal(18, 2)) as expected_amount_reporting
    from joined
)

select * from final
