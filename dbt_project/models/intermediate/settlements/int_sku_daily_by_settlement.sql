-- fct_sku_daily's sums, per settlement: per settlement, account, marketplace, currency, SKU and UTC day, the
-- units sold, principal, fees by category, refunds, net proceeds and line count of the lines that carry a SKU.
-- Incremental by settlement like the line facts (macros/changed_settlements.sql), so that a daily build sums the
-- new and re-issued settlements' lines only; fct_sku_daily adds these rows up per day (exact: DECIMAL sums),
-- which is far fewer rows than the lines. The refunded units are not here: a refund's units can change when
-- another settlement or a Finances transaction arrives (int_settlement_refund_quantities), so fct_sku_daily
-- takes them from the rule itself on every build.
{%- set categories = ['referral_commission', 'fulfilment', 'shipping'] %}
{#- The keys line_sums and fee_sums group by and the join matches them on, once: (column, its expression, whether
    it can be null, which the join then matches with `is not distinct from` instead of `=`). #}
{%- set keys = [
    ('settlement_id', 'settlement_id', false),
    ('account_id', 'account_id', true),
    ('marketplace_name', 'marketplace_name', true),
    ('currency', 'currency', true),
    ('sku', 'sku', false),
    ('posted_date', 'cast(posted_at as date)', true),
] %}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns',
          pre_hook="{{ delete_changed_settlements(ref('stg_lake_settlements__settlements')) }}",
          post_hook="{{ keep_settlement_versions() }}") }}
{%- set changed = changed_settlements_only(ref('stg_lake_settlements__settlements'), 'settlement_id') %}

with settlement_lines as (
    select * from {{ ref('fct_settlement_lines') }}
    {{ changed }}
    {{ 'and' if is_incremental() else 'where' }} sku is not null
),

-- The settlement's document, one per settlement: taken per settlement rather than as an aggregate of every
-- (SKU, day) group, because DuckDB keeps a string aggregate's state in memory it cannot spill, and three years of
-- settlements have millions of groups (a first build ran out of dbt's memory).
documents as (
    select settlement_id, any_value(raw_sha256) as raw_sha256
    from {{ ref('fct_settlement_lines') }}
    {{ changed }}
    group by settlement_id
),

-- Per settlement and day, the sums of every line (fees_total: the fee class, which is exactly fct_fees' lines).
line_sums as (
    select
        {%- for column, expression, _ in keys %}
        {{ expression }}{{ ' as ' ~ column if expression != column }},
        {%- endfor %}
        sum(quantity) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ) as units_sold,
        sum(amount) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ) as principal,
        sum(amount) filter (where line_class = 'fee') as fees_total,
        sum(amount) filter (where line_class = 'refund') as refunds,
        sum(amount) as net_proceeds,
        count(*) as line_count
    from settlement_lines
    group by {{ keys | map(attribute=1) | join(', ') }}
),

-- The fees by fct_fees' category, summed from fct_fees itself (its lines carry the same settlement, account,
-- marketplace, currency, SKU and time as the settlement line they are): summing the lines joined to their fee
-- rows held the join and the sums in memory at once, which a first build of three years could not spill.
fee_sums as (
    select
        {%- for column, expression, _ in keys %}
        {{ expression }}{{ ' as ' ~ column if expression != column }},
        {%- endfor %}
        {%- for category in categories %}
        sum(amount) filter (where fee_category = '{{ category }}') as fees_{{ category }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('fct_fees') }}
    {{ changed }}
    {{ 'and' if is_incremental() else 'where' }} sku is not null
    group by {{ keys | map(attribute=1) | join(', ') }}
),

final as (
    select
        line_sums.settlement_id,
        documents.raw_sha256,
        line_sums.account_id,
        line_sums.marketplace_name,
        line_sums.currency,
        line_sums.sku,
        line_sums.posted_date,
        line_sums.units_sold,
        line_sums.principal,
        {%- for category in categories %}
        fee_sums.fees_{{ category }},
        {%- endfor %}
        line_sums.fees_total,
        line_sums.refunds,
        line_sums.net_proceeds,
        line_sums.line_count,
        -- fct_sku_daily rewrites the days of the settlements summed by this build (macros/sku_daily.sql).
        cast('{{ invocation_id }}' as varchar) as built_in_invocation
    from line_sums
    inner join documents on line_sums.settlement_id = documents.settlement_id
    left join fee_sums
        on {% for column, _, nullable in keys -%}
        {{ '\n        and ' if not loop.first -}}
        fee_sums.{{ column }} {{ 'is not distinct from' if nullable else '=' }} line_sums.{{ column }}
        {%- endfor %}
)

select * from final
