-- The rows of rpt_deferred_schedule whose money is still deferred more than var deferred_overdue_grace_days
-- after its maturity date (Amazon releases deferred money on that date; the grace absorbs posting lag). The
-- check deferred_release_overdue reads this. The reference date is the account's latest listBalances as-of
-- (Amazon's clock, also the simulator's), so the verdict does not depend on when the check runs; without any
-- snapshot, today's UTC date (this model is a view: evaluated when read).
with schedule as (
    select * from {{ ref('rpt_deferred_schedule') }}
    where maturity_date is not null
),

reference_dates as (
    select account_id, cast(max(as_of) as date) as reference_date
    from {{ ref('stg_lake_finance__balances') }}
    group by account_id
),

dated as (
    select
        schedule.account_id,
        schedule.marketplace_id,
        schedule.currency,
        schedule.maturity_date,
        schedule.deferred_amount,
        coalesce(reference_dates.reference_date, current_date) as reference_date
    from schedule
    left join reference_dates on schedule.account_id = reference_dates.account_id
),

final as (
    select
        account_id,
        marketplace_id,
        currency,
        maturity_date,
        deferred_amount,
        reference_date,
        cast(date_diff('day', maturity_date, reference_date) as integer) as days_overdue
    from dated
    where maturity_date < reference_date - to_days({{ var('deferred_overdue_grace_days') }})
)

select * from final
