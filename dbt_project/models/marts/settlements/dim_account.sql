-- One row per account: every account of the accounts config (dbt var `accounts`, passed by each build from
-- ACORN_CONFIG: orchestration/warehouse/assets.py), plus any account the data names that the config does not
-- (a file imported for an account since removed), so that every fact joins to it. Type, region and configured
-- marketplaces come from the config; currencies, marketplaces seen and the settlement history from the data.
{%- set configured_accounts = var('accounts', []) %}
with configured as (
    {%- if configured_accounts %}
    select * from (values
        {%- for account in configured_accounts %}
        ({{ sql_literal(account['id']) }}, {{ sql_literal(account['kind']) }}, {{ sql_literal(account['region']) }},
         {{ sql_literal(account['marketplaces'] | join(',')) }}, {{ sql_literal(account.get('time_zone')) }})
        {{- ',' if not loop.last }}
        {%- endfor %}
    ) as accounts (account_id, account_type, region, marketplace_ids, time_zone)
    {%- else %}
    select
        cast(null as varchar) as account_id,
        cast(null as varchar) as account_type,
        cast(null as varchar) as region,
        cast(null as varchar) as marketplace_ids,
        cast(null as varchar) as time_zone
    where false
    {%- endif %}
),

marketplaces as (
    select * from {{ ref('marketplaces') }}
),

configured_marketplaces as (
    select configured.account_id, marketplaces.marketplace_name, marketplaces.region
    from configured
    cross join unnest(string_split(configured.marketplace_ids, ',')) as ids (marketplace_id)
    inner join marketplaces on marketplaces.marketplace_id = ids.marketplace_id
),

-- The account's effective time zone, which the dashboard shows its times in: the config's
-- reporting_time_zone, else the zone of its first configured marketplace that the marketplace_time_zones seed
-- knows (the zone the books' month parts use for that marketplace), else its region's, else UTC.
configured_positions as (
    select account_id, unnest(ids) as marketplace_id, generate_subscripts(ids, 1) as position
    from (select account_id, string_split(marketplace_ids, ',') as ids from configured)
),

first_marketplace_zones as (
    select configured_positions.account_id, arg_min(time_zones.time_zone, configured_positions.position) as time_zone
    from configured_positions
    inner join {{ ref('marketplace_time_zones') }} as time_zones
        on time_zones.marketplace_id = configured_positions.marketplace_id
    group by configured_positions.account_id
),

observed as (
    select account_id from {{ ref('stg_lake_settlements__settlements') }}
    union select account_id from {{ ref('stg_lake_finance__transactions') }}
    union select account_id from {{ ref('stg_lake_finance__financial_event_groups') }}
    union select account_id from {{ ref('stg_lake_vendor__po_headers') }}
),

payouts as (
    select * from {{ ref('fct_payouts') }}
    where account_id is not null
),

paid_marketplaces as (
    select distinct payouts.account_id, payouts.marketplace_name, marketplaces.region
    from payouts
    left join marketplaces on marketplaces.marketplace_name = payouts.marketplace_name
),

all_marketplaces as (
    select * from configured_marketplaces
    union
    select * from paid_marketplaces
),

history as (
    select
        account_id,
        string_agg(distinct currency, ',' order by currency) as currencies,
        count(*) as settlement_count,
        count(*) filter (where not is_reconciled) as unreconciled_settlement_count,
        min(period_start_at) as first_period_start_at,
        max(period_end_at) as last_period_end_at,
        max(deposit_at) as last_deposit_at
    from payouts
    group by account_id
),

accounts as (
    select account_id from configured
    union
    select account_id from observed where account_id is not null
),

final as (
    select
        cast(accounts.account_id as varchar) as account_id,
        cast(configured.account_type as varchar) as account_type,
        cast(
            coalesce(
                configured.region,
                (select min(m.region) from all_marketplaces as m where m.account_id = accounts.account_id)
            ) as varchar
        ) as region,
        cast(configured.marketplace_ids as varchar) as marketplace_ids,
        cast((
            select string_agg(distinct m.marketplace_name, ',' order by m.marketplace_name)
            from all_marketplaces as m
            where m.account_id = accounts.account_id
        ) as varchar) as marketplace_names,
        cast(coalesce(
            configured.time_zone,
            first_marketplace_zones.time_zone,
            case lower(coalesce(
                configured.region,
                (select min(m.region) from all_marketplaces as m where m.account_id = accounts.account_id)
            ))
                when 'na' then 'America/Los_Angeles'
                when 'eu' then 'Europe/Berlin'
                when 'fe' then 'Asia/Tokyo'
            end,
            'UTC'
        ) as varchar) as time_zone,
        configured.account_id is not null as is_configured,
        cast(history.currencies as varchar) as currencies,
        cast(coalesce(history.settlement_count, 0) as bigint) as settlement_count,
        cast(coalesce(history.unreconciled_settlement_count, 0) as bigint) as unreconciled_settlement_count,
        history.first_period_start_at,
        history.last_period_end_at,
        history.last_deposit_at
    from accounts
    left join configured on configured.account_id = accounts.account_id
    left join history on history.account_id = accounts.account_id
    left join first_marketplace_zones on first_marketplace_zones.account_id = accounts.account_id
)

select * from final
