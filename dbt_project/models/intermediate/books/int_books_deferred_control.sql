-- The deferred-money control, per account, currency and listBalances snapshot: opening (the deferred-balances
-- asset as the journals of the months before the snapshot's leave it) + deferred - released in the snapshot's
-- month up to the snapshot = the DEFERRED balance Amazon reports, to the cent (check books_deferred_control).
-- As in int_deferred_balances_compared, a snapshot is `verified` when it was taken at least the listing lag
-- before the account's latest one (every transaction it holds is listed by then); the latest is `provisional`.
with balances as (
    select account_id, currency, as_of, sum(amount) as reported
    from {{ ref('stg_lake_finance__balances') }}
    where balance_type = 'DEFERRED'
    group by account_id, currency, as_of
),

newest as (
    select account_id, max(as_of) as newest_as_of from balances group by account_id
),

snapshots as (
    select
        balances.*,
        case
            when balances.as_of <= newest.newest_as_of - to_seconds({{ var('finances_listing_lag_seconds') }})
                then 'verified'
            else 'provisional'
        end as comparison
    from balances
    inner join newest on balances.account_id = newest.account_id
),

marketplaces as (
    select * from {{ ref('int_books_marketplaces') }}
),

journal_balances as (
    select
        lines.account_id,
        lines.currency,
        lines.marketplace_id,
        lines.period_month,
        sum(lines.debit - lines.credit) as asset_change
    from {{ ref('fct_journal_lines') }} as lines
    where lines.account_key = 'amazon_deferred_balances'
    group by all
),

events as (
    select account_id, currency, marketplace_id, time_zone, journal_kind, event_at, period_month, amount
    from {{ ref('int_books_deferred_lines_posted') }}
),

opening as (
    select
        snapshots.account_id,
        snapshots.currency,
        snapshots.as_of,
        sum(journal_balances.asset_change) as opening
    from snapshots
    inner join journal_balances
        on snapshots.account_id = journal_balances.account_id
        and snapshots.currency = journal_balances.currency
    left join marketplaces on journal_balances.marketplace_id = marketplaces.marketplace_id
    where journal_balances.period_month < strftime(
        timezone({{ books_time_zone('snapshots.account_id', 'marketplaces.time_zone') }}, snapshots.as_of), '%Y-%m'
    )
    group by all
),

in_month as (
    select
        snapshots.account_id,
        snapshots.currency,
        snapshots.as_of,
        sum(events.amount) filter (where events.journal_kind = 'deferred') as deferred,
        sum(events.amount) filter (where events.journal_kind = 'released') as released
    from snapshots
    inner join events
        on snapshots.account_id = events.account_id
        and snapshots.currency = events.currency
        and events.event_at <= snapshots.as_of
        and events.period_month = strftime(timezone(events.time_zone, snapshots.as_of), '%Y-%m')
    group by all
),

final as (
    select
        snapshots.account_id,
        snapshots.currency,
        snapshots.as_of,
        snapshots.comparison,
        cast(coalesce(opening.opening, 0) as decimal(18, 2)) as opening,
        cast(coalesce(in_month.deferred, 0) as decimal(18, 2)) as deferred,
        cast(coalesce(in_month.released, 0) as decimal(18, 2)) as released,
        cast(
            coalesce(opening.opening, 0) + coalesce(in_month.deferred, 0) - coalesce(in_month.released, 0)
            as decimal(18, 2)
        ) as closing,
        cast(snapshots.reported as decimal(18, 2)) as reported,
        cast(
            snapshots.reported
            - (coalesce(opening.opening, 0) + coalesce(in_month.deferred, 0) - coalesce(in_month.released, 0))
            as decimal(18, 2)
        ) as difference
    from snapshots
    left join opening
        on snapshots.account_id = opening.account_id
        and snapshots.currency = opening.currency
        and snapshots.as_of = opening.as_of
    left join in_month
        on snapshots.account_id = in_month.account_id
        and snapshots.currency = in_month.currency
        and snapshots.as_of = in_month.as_of
)

select *, difference = 0 as holds from final
