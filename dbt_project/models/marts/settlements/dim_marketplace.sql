-- Every marketplace Amazon runs (the marketplaces seed) plus any name a settlement report used that the seed
-- does not know (with a null id), and when ACORN saw money in it.
with known as (
    select * from {{ ref('marketplaces') }}
),

-- Reports spell a marketplace with varying case (`amazon.com`, `Amazon.com`): one marketplace, one row.
observed as (
    select
        min(marketplace_name) as marketplace_name,
        min(posted_at) as first_posted_at,
        max(posted_at) as last_posted_at,
        count(distinct settlement_id) as settlement_count
    from {{ ref('fct_settlement_lines') }}
    where marketplace_name is not null
    group by lower(marketplace_name)
),

final as (
    select
        cast(known.marketplace_id as varchar) as marketplace_id,
        cast(coalesce(known.marketplace_name, observed.marketplace_name) as varchar) as marketplace_name,
        cast(known.country_code as varchar) as country_code,
        cast(known.default_currency as varchar) as default_currency,
        cast(known.region as varchar) as region,
        known.marketplace_id is not null as is_known,
        observed.first_posted_at,
        observed.last_posted_at,
        cast(coalesce(observed.settlement_count, 0) as bigint) as settlement_count
    from known
    full outer join observed on lower(known.marketplace_name) = lower(observed.marketplace_name)
)

select * from final
