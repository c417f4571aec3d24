-- fct_sku_daily's sums, per settlement: per settlement, account, marketplace, currency, SKU and UTC day, the
-- units sold, principal, fees by category, refunds, net proceeds and line count of the lines that carry a SKU.
-- Incremental by settlement like the line facts (macros/changed_settlements.sql), so that a daily build sums the
-- new and re-issued settlements' lines only; fct_sku_daily adds these rows up per day (exact: DECIMAL sums),
-- which is far fewer rows than the lines. The refunded units are not here: a refund's units can change when
-- another settlement or a Finances transaction arrives (int_settlement_refund_quantities), so fct_sku_daily
-- takes them from the rule itself on every build.
{%- set categories = ['referral_commission', 'fulfilment', 'shipping'] %}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns',
          pre_hook="{{ delete_changed_settlements(ref('stg_lake_settlements__settlements')) }}") }}
{%- set changed = changed_settlements_only(ref('stg_lake_settlements__settlements'), 'settlement_id') %}

with settlement_lines as (
    select * from {{ ref('fct_settlement_lines') }}
    {{ changed }}
),

-- Fees are exactly fct_fees' lines (the fee class), with fct_fees' category.
fee_lines as (
    select settlement_id, line_number, fee_category from {{ ref('fct_fees') }}
    {{ changed }}
),

lines as (
    select
        settlement_lines.*,
        settlement_lines.line_class = 'fee' as is_fct_fee,
        fee_lines.fee_category as fct_fee_category
    from settlement_lines
    left join fee_lines
        on fee_lines.settlement_id = settlement_lines.settlement_id
        and fee_lines.line_number = settlement_lines.line_number
    where settlement_lines.sku is not null
),

-- The settlement's document, one per settlement: taken per settlement rather than as an aggregate of every
-- (SKU, day) group, because DuckDB keeps a string aggregate's state in memory it cannot spill, and three years of
-- settlements have millions of groups (a first build ran out of dbt's 512 MB).
documents as (
    select settlement_id, any_value(raw_sha256) as raw_sha256
    from {{ ref('fct_settlement_lines') }}
    {{ changed }}
    group by settlement_id
),

sums as (
    select
        settlement_id,
        account_id,
        marketplace_name,
        currency,
        sku,
        cast(posted_at as date) as posted_date,
        sum(quantity) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ) as units_sold,
        sum(amount) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ) as principal,
        {%- for category in categories %}
        sum(amount) filter (where is_fct_fee and fct_fee_category = '{{ category }}') as fees_{{ category }},
        {%- endfor %}
        sum(amount) filter (where is_fct_fee) as fees_total,
        sum(amount) filter (where line_class = 'refund') as refunds,
        sum(amount) as net_proceeds,
        count(*) as line_count,
        -- fct_sku_daily rewrites the days of the settlements summed by this build (macros/sku_daily.sql).
        cast('{{ invocation_id }}' as varchar) as built_in_invocation
    from lines
    group by settlement_id, account_id, marketplace_name, currency, sku, cast(posted_at as date)
),

final as (
    select
        sums.settlement_id,
        documents.raw_sha256,
        sums.* exclude (settlement_id)
    from sums
    inner join documents on sums.settlement_id = documents.settlement_id
)

select * from final
