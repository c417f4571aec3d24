-- Every marketplace name in the marts is spelled as the marketplaces seed spells it (`Amazon.com`, never
-- `amazon.com`): a row per mart and name that matches a seed name only when case is ignored.
with names as (
    select 'fct_settlement_lines' as mart, marketplace_name from {{ ref('fct_settlement_lines') }}
    union all select 'fct_payouts', marketplace_name from {{ ref('fct_payouts') }}
    union all select 'fct_fees', marketplace_name from {{ ref('fct_fees') }}
    union all select 'fct_refunds', marketplace_name from {{ ref('fct_refunds') }}
    union all select 'fct_sku_daily', marketplace_name from {{ ref('fct_sku_daily') }}
    union all select 'fct_transactions', marketplace_name from {{ ref('fct_transactions') }}
    union all select 'fct_financial_events', marketplace_name from {{ ref('fct_financial_events') }}
    union all select 'rpt_deferred_schedule', marketplace_name from {{ ref('rpt_deferred_schedule') }}
    union all select 'dim_marketplace', marketplace_name from {{ ref('dim_marketplace') }}
    union all
    select 'dim_account', unnest(string_split(marketplace_names, ',')) from {{ ref('dim_account') }}
)

select distinct names.mart, names.marketplace_name, seed.marketplace_name as canonical_name
from names
inner join {{ ref('marketplaces') }} as seed
    on lower(seed.marketplace_name) = lower(names.marketplace_name)
where names.marketplace_name <> seed.marketplace_name
