-- Per account and currency, listBalances' DEFERRED balance next to ACORN's deferred money, two ways (the check
-- deferred_balance_matches reads this):
-- - `verified`: the newest snapshot the landed transactions fully cover, against the deferred money
--   reconstructed as of its time; it must match to the cent.
-- - `provisional`: the latest snapshot against rpt_deferred_schedule as it stands. Amazon lists transactions
--   only up to a few minutes before a request (var finances_listing_lag_seconds) while listBalances answers
--   as of the request itself, so money posted in that gap is in the balance but not yet in the lake: a
--   difference here is provisional, verified by the next run.
-- Accounts without a balance snapshot (they do not read the 2024-06-19 API) are left out.
with balances as (
    select * from {{ ref('stg_lake_finance__balances') }}
),

transactions as (
    select * from {{ ref('int_transactions_totaled') }}
),

-- The schedule is the mart this comparison verifies.
schedule as (
    select account_id, currency, sum(deferred_amount) as amount
    from {{ ref('rpt_deferred_schedule') }}
    group by account_id, currency
),

snapshot_times as (
    select distinct account_id, as_of from balances
),

newest_snapshots as (
    select account_id, max(as_of) as newest_as_of from snapshot_times group by account_id
),

-- The newest snapshot taken at least the listing lag before the account's latest one.
covered_snapshots as (
    select snapshot_times.account_id, max(snapshot_times.as_of) as as_of
    from snapshot_times
    inner join newest_snapshots on snapshot_times.account_id = newest_snapshots.account_id
    where snapshot_times.as_of
        <= newest_snapshots.newest_as_of - to_seconds({{ var('finances_listing_lag_seconds') }})
    group by snapshot_times.account_id
),

covered_balances as (
    select balances.account_id, balances.currency, balances.as_of, sum(balances.amount) as amount
    from balances
    inner join covered_snapshots
        on balances.account_id = covered_snapshots.account_id
        and balances.as_of = covered_snapshots.as_of
    where balances.balance_type = 'DEFERRED'
    group by balances.account_id, balances.currency, balances.as_of
),

-- Deferred at T: posted by T and either still DEFERRED or released (DEFERRED_RELEASED) after T, which is its
-- maturity date (Amazon keeps it in the DeferredContext).
reconstructed as (
    select covered_snapshots.account_id, transactions.currency, sum(transactions.total_amount) as amount
    from covered_snapshots
    inner join transactions
        on transactions.account_id = covered_snapshots.account_id
        and transactions.posted_at <= covered_snapshots.as_of
        and (
            transactions.transaction_status = 'DEFERRED'
            or (
                transactions.transaction_status = 'DEFERRED_RELEASED'
                and transactions.maturity_at > covered_snapshots.as_of
            )
        )
    group by covered_snapshots.account_id, transactions.currency
),

verified as (
    select
        coalesce(covered_balances.account_id, reconstructed.account_id) as account_id,
        coalesce(covered_balances.currency, reconstructed.currency) as currency,
        'verified' as comparison,
        coalesce(reconstructed.amount, 0) as schedule_outstanding,
        covered_balances.amount as deferred_balance,
        coalesce(covered_balances.as_of, covered_snapshots.as_of) as balance_as_of
    from covered_balances
    full outer join reconstructed
        on covered_balances.account_id = reconstructed.account_id
        and covered_balances.currency = reconstructed.currency
    left join covered_snapshots on reconstructed.account_id = covered_snapshots.account_id
),

-- The latest snapshot of each account and marketplace (marketplaces may be read at different times).
latest_snapshots as (
    select account_id, marketplace_id, max(as_of) as as_of
    from balances
    group by account_id, marketplace_id
),

latest_balances as (
    select balances.account_id, balances.currency, sum(balances.amount) as amount, max(balances.as_of) as as_of
    from balances
    inner join latest_snapshots
        on balances.account_id = latest_snapshots.account_id
        and balances.marketplace_id is not distinct from latest_snapshots.marketplace_id
        and balances.as_of = latest_snapshots.as_of
    where balances.balance_type = 'DEFERRED'
    group by balances.account_id, balances.currency
),

provisional as (
    select
        coalesce(latest_balances.account_id, schedule.account_id) as account_id,
        coalesce(latest_balances.currency, schedule.currency) as currency,
        'provisional' as comparison,
        coalesce(schedule.amount, 0) as schedule_outstanding,
        latest_balances.amount as deferred_balance,
        latest_balances.as_of as balance_as_of
    from latest_balances
    full outer join schedule
        on latest_balances.account_id = schedule.account_id
        and latest_balances.currency = schedule.currency
    where coalesce(latest_balances.account_id, schedule.account_id) in (select account_id from latest_balances)
),

compared as (
    select * from verified
    union all
    select * from provisional
),

final as (
    select
        cast(account_id as varchar) as account_id,
        cast(currency as varchar) as currency,
        cast(comparison as varchar) as comparison,
        cast(schedule_outstanding as decimal(18, 2)) as schedule_outstanding,
        cast(deferred_balance as decimal(18, 2)) as deferred_balance,
        balance_as_of,
        cast(deferred_balance - schedule_outstanding as decimal(18, 2)) as difference,
        coalesce(deferred_balance = schedule_outstanding, false) as matches
    from compared
)

select * from final
