-- One row per calendar day from the first settlement period's start to 90 days after the last deposit (far
-- enough for the payout forecast). Days are UTC dates, like every timestamp in the warehouse.
with bounds as (
    select
        cast(min(period_start_at) as date) as first_day,
        cast(max(coalesce(deposit_at, period_end_at)) as date) + interval 90 day as last_day
    from {{ ref('fct_payouts') }}
),

days as (
    select cast(day as date) as date_day
    from bounds, range(bounds.first_day, bounds.last_day + interval 1 day, interval 1 day) as spine(day)
    where bounds.first_day is not null
),

final as (
    select
        date_day,
        cast(year(date_day) as integer) as year,
        cast(quarter(date_day) as integer) as quarter,
        cast(month(date_day) as integer) as month,
        monthname(date_day) as month_name,
        cast(date_trunc('month', date_day) as date) as first_day_of_month,
        cast(isoyear(date_day) as integer) as iso_year,
        cast(week(date_day) as integer) as iso_week,
        cast(isodow(date_day) as integer) as iso_day_of_week,
        dayname(date_day) as day_name,
        isodow(date_day) in (6, 7) as is_weekend
    from days
)

select * from final
