-- Rates into the reporting currency (var reporting_currency), from the fx_rates seed users replace with their
-- own (their bank's or a central bank's). A rate applies from its rate_date until the next one; the reporting
-- currency converts to itself at 1. A currency without a rate on or before a date stays unconverted (null):
-- ACORN never guesses a rate and never adds amounts of different currencies.
with seeded as (
    select
        cast(rate_date as date) as rate_date,
        cast(currency as varchar) as currency,
        cast(rate as decimal(18, 8)) as rate
    from {{ ref('fx_rates') }}
    where reporting_currency = '{{ var("reporting_currency") }}'
        and currency <> '{{ var("reporting_currency") }}'
),

identity as (
    select
        cast('1900-01-01' as date) as rate_date,
        cast('{{ var("reporting_currency") }}' as varchar) as currency,
        cast(1 as decimal(18, 8)) as rate
),

final as (
    select * from seeded
    union all
    select * from identity
)

select * from final
