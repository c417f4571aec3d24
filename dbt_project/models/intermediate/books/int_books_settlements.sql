-- One row per settlement, as the books post it: its account, its marketplace (the report's name, else the name
-- most of its lines carry, else the only marketplace of its currency; reports spell names in any case), the
-- reporting time zone, the bank and card account keys, and its period end as a local date.
with settlements as (
    select * from {{ ref('stg_lake_settlements__settlements') }}
),

marketplaces as (
    select * from {{ ref('int_books_marketplaces') }}
),

-- The lines' marketplace names resolve only the settlements whose report names no known marketplace (the first
-- choice below), so only their lines are counted: usually none. The names are read from the lake as stored:
-- the staged lines' canonical spelling (macros/canonical_marketplace_name.sql) differs from it only in case,
-- which the match below ignores, and canonicalizing every line of the history cost more than this whole view.
unnamed as (
    select settlements.settlement_id
    from settlements
    anti join marketplaces on lower(settlements.marketplace_name) = lower(marketplaces.marketplace_name)
),

lines as (
    select cast(settlement_id as varchar) as settlement_id, cast(marketplace_name as varchar) as marketplace_name
    from {{ source('lake_settlements', 'settlement_lines') }}
    where marketplace_name is not null and cast(settlement_id as varchar) in (select settlement_id from unnamed)
),

by_line_name as (
    select
        lines.settlement_id,
        marketplaces.marketplace_id,
        count(*) as line_count
    from lines
    inner join marketplaces on lower(lines.marketplace_name) = lower(marketplaces.marketplace_name)
    group by lines.settlement_id, marketplaces.marketplace_id
),

by_line as (
    select settlement_id, first(marketplace_id order by line_count desc, marketplace_id) as marketplace_id
    from by_line_name
    group by settlement_id
),

by_currency as (
    select default_currency, min(marketplace_id) as marketplace_id
    from marketplaces
    group by default_currency
    having count(*) = 1
),

resolved as (
    select
        settlements.*,
        coalesce(by_report_name.marketplace_id, by_line.marketplace_id, by_currency.marketplace_id) as resolved_marketplace_id
    from settlements
    left join marketplaces as by_report_name
        on lower(settlements.marketplace_name) = lower(by_report_name.marketplace_name)
    left join by_line on settlements.settlement_id = by_line.settlement_id
    left join by_currency on settlements.currency = by_currency.default_currency
),

zoned as (
    select
        resolved.settlement_id,
        coalesce(resolved.account_id, 'unassigned') as account_id,
        resolved.resolved_marketplace_id as marketplace_id,
        coalesce(marketplaces.marketplace_name, resolved.marketplace_name) as marketplace_name,
        resolved.currency,
        resolved.total_amount,
        resolved.period_start_at,
        resolved.period_end_at,
        resolved.deposit_at,
        resolved.raw_sha256,
        {{ books_time_zone('resolved.account_id', 'marketplaces.time_zone') }} as time_zone,
        coalesce(marketplaces.bank_account_key, 'bank_amazon_other') as bank_account_key,
        coalesce(marketplaces.card_account_key, 'card_amazon_other') as card_account_key
    from resolved
    left join marketplaces on resolved.resolved_marketplace_id = marketplaces.marketplace_id
),

final as (
    select
        *,
        cast(timezone(time_zone, period_end_at) as date) as local_end_date,
        cast(timezone(time_zone, deposit_at) as date) as local_deposit_date
    from zoned
)

select * from final
