-- Per account and currency: the open settlement period, what it holds so far, when it should end, when its
-- payout should reach the bank (learned from history), and the payout to expect with a range.
--
-- Beside ACORN's estimate (the trailing median of this account's payouts in this currency) it shows the money
-- already certain for the period: the open balance plus the deferred money (DD+7, B2B) that matures before the
-- period's expected end, from rpt_deferred_schedule; and, where Amazon states one (Transfers
-- listExpectedPayouts, EU marketplaces), Amazon's own expected payout, side by side, never blended.
{%- set trailing = 8 %}
with payouts as (
    select * from {{ ref('fct_payouts') }}
    where account_id is not null and period_end_at is not null
),

-- One row per account, currency and period: the marketplaces paid in one currency add up, never across
-- currencies.
periods as (
    select
        account_id,
        currency,
        period_end_at,
        min(period_start_at) as period_start_at,
        max(deposit_at) as deposit_at,
        sum(total_amount) as period_total,
        count(*) as settlement_count,
        row_number() over (partition by account_id, currency order by period_end_at desc) as periods_back
    from payouts
    group by account_id, currency, period_end_at
),

history as (
    select
        account_id,
        currency,
        count(*) as payout_history_count,
        max(period_end_at) as open_period_start_at,
        median(epoch(period_end_at) - epoch(period_start_at)) as typical_period_seconds,
        median(epoch(deposit_at) - epoch(period_end_at)) as typical_deposit_lag_seconds,
        median(period_total) filter (where periods_back <= {{ trailing }}) as expected_amount,
        quantile_cont(period_total, 0.1) filter (where periods_back <= {{ trailing }}) as expected_amount_low,
        quantile_cont(period_total, 0.9) filter (where periods_back <= {{ trailing }}) as expected_amount_high
    from periods
    group by account_id, currency
),

-- What the open period holds so far: the running balance of the Open v0 financial event groups.
open_balances as (
    select
        account_id,
        currency,
        sum(original_total) as balance_so_far,
        max(observed_at) as balance_observed_at
    from {{ ref('stg_lake_finance__financial_event_groups') }}
    where processing_status = 'Open'
    group by account_id, currency
),

forecast_inputs as (
    select
        history.*,
        open_balances.balance_so_far,
        open_balances.balance_observed_at
    from history
    left join open_balances
        on history.account_id = open_balances.account_id
        and history.currency = open_balances.currency
),

rates as (
    select * from {{ ref('int_fx_rates_to_reporting') }}
),

deferred as (
    select account_id, currency, maturity_date, deferred_amount
    from {{ ref('rpt_deferred_schedule') }}
),

-- Amazon's expected payouts for the open period (one per marketplace; same-currency ones add up).
amazon_expected as (
    select
        account_id,
        currency,
        period_end_at,
        amount,
        scheduled_at
    from {{ ref('stg_lake_finance__expected_payouts') }}
),

forecast as (
    select
        forecast_inputs.*,
        forecast_inputs.open_period_start_at
            + to_seconds(cast(typical_period_seconds as bigint)) as expected_period_end_at,
        forecast_inputs.open_period_start_at
            + to_seconds(cast(typical_period_seconds as bigint))
            + to_seconds(cast(coalesce(typical_deposit_lag_seconds, 0) as bigint)) as expected_deposit_at
    from forecast_inputs
),

-- Each aggregated on its own: joining both lists at once would multiply their rows.
deferred_in_period as (
    select
        forecast.account_id,
        forecast.currency,
        sum(deferred.deferred_amount) as deferred_maturing_in_period
    from forecast
    inner join deferred
        on forecast.account_id = deferred.account_id
        and forecast.currency = deferred.currency
        and deferred.maturity_date <= cast(forecast.expected_period_end_at as date)
    group by forecast.account_id, forecast.currency
),

amazon_in_period as (
    select
        forecast.account_id,
        forecast.currency,
        sum(amazon_expected.amount) as amazon_expected_amount,
        min(amazon_expected.scheduled_at) as amazon_expected_at
    from forecast
    inner join amazon_expected
        on forecast.account_id = amazon_expected.account_id
        and forecast.currency = amazon_expected.currency
        and amazon_expected.period_end_at > forecast.open_period_start_at
    group by forecast.account_id, forecast.currency
),

converted as (
    select
        forecast.*,
        deferred_in_period.deferred_maturing_in_period,
        amazon_in_period.amazon_expected_amount,
        amazon_in_period.amazon_expected_at,
        rates.rate as fx_rate
    from forecast
    left join deferred_in_period
        on forecast.account_id = deferred_in_period.account_id
        and forecast.currency = deferred_in_period.currency
    left join amazon_in_period
        on forecast.account_id = amazon_in_period.account_id
        and forecast.currency = amazon_in_period.currency
    asof left join rates
        on forecast.currency = rates.currency
        and cast(forecast.expected_deposit_at as date) >= rates.rate_date
),

final as (
    select
        account_id,
        currency,
        cast(payout_history_count as bigint) as payout_history_count,
        open_period_start_at,
        expected_period_end_at,
        expected_deposit_at,
        cast(round(typical_period_seconds / 86400, 2) as decimal(9, 2)) as typical_period_days,
        cast(round(typical_deposit_lag_seconds / 86400, 2) as decimal(9, 2)) as typical_deposit_lag_days,
        cast(balance_so_far as decimal(18, 2)) as balance_so_far,
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
    from converted
)

select * from final
