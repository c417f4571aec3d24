-- Per account, marketplace, currency, SKU and UTC day: units, principal, fees by category, refunds and net
-- proceeds, in the settlement currency; plus net proceeds in the reporting currency at the day's rate.
-- The money columns add up: principal + fees_total + refunds + other_amounts = net_proceeds. Fees and refunds
-- are the lines of line_class fee and refund (int_settlement_lines_classified: one classification of a line for
-- every mart; fees are exactly fct_fees' lines that carry this SKU, including the commission Amazon returns or
-- keeps on a refund; refunds are what the buyer got back: principal, shipping, promotions; taxes are in
-- other_amounts). Only the categories Amazon charges per item have a column of their own: storage,
-- subscription, advertising and the other account-level charges carry no SKU (they are in fct_fees), and the
-- rest of a SKU's fees are in fees_total.
-- Incremental by day (macros/sku_daily.sql): a build rewrites the days of its new and re-issued settlements and
-- any day whose refunded units changed, from the per-settlement sums; a full refresh builds every day the same
-- way.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='posted_date',
          on_schema_change='append_new_columns',
          pre_hook=["{{ record_sku_daily_days(ref('int_sku_daily_by_settlement'),
                                              ref('int_settlement_refund_quantities')) }}",
                    "{{ delete_sku_daily_stale_days() }}"]) }}
{%- set categories = ['referral_commission', 'fulfilment', 'shipping'] %}
{#- The days this build rewrites, recorded now and named as literals (none: a full build, or dbt keeps no record). #}
{%- set stale = sku_daily_days(ref('int_sku_daily_by_settlement'), ref('int_settlement_refund_quantities'))
    if is_incremental() else none %}
with
{%- if is_incremental() and stale is none %}
-- The days the pre-hook deleted (or that are new): those the per-settlement sums have and the mart does not.
days as (
    select distinct posted_date from {{ ref('int_sku_daily_by_settlement') }}
    except
    select distinct posted_date from {{ this }}
),
{%- endif %}

by_settlement as (
    select summed.* from {{ ref('int_sku_daily_by_settlement') }} as summed
    {%- if stale is not none %}
    where {{ sku_daily_days_condition(stale, 'summed.posted_date') }}
    {%- elif is_incremental() %}
    semi join days on summed.posted_date is not distinct from days.posted_date
    {%- endif %}
),

-- Units refunded: int_settlement_refund_quantities (the one rule for a refund's quantity, shared with
-- fct_refunds), on the day and SKU of the refund's line.
-- On an incremental run, the rule (macros/refund_quantities.sql) applied to the days' refund lines only, and to
-- their orders and SKUs: what the view gives those lines, without summing the orders of every refund of the
-- history first (the view reads fct_settlement_lines and fct_transactions, which this model depends on through it).
refund_quantities as (
    {%- if stale is not none %}
    select refunds.* from (
        {{ refund_quantity_rule(model_relation('fct_settlement_lines'), model_relation('fct_transactions'),
                                refund_lines_where=sku_daily_days_condition(stale, 'cast(posted_at as date)',
                                                                            'posted_at')) }}
    ) as refunds
    {%- elif is_incremental() %}
    select refunds.* from (
        {{ refund_quantity_rule(model_relation('fct_settlement_lines'), model_relation('fct_transactions'),
                                refund_lines_join='semi join days on cast(posted_at as date) is not distinct from days.posted_date') }}
    ) as refunds
    {%- else %}
    select refunds.* from {{ ref('int_settlement_refund_quantities') }} as refunds
    {%- endif %}
),

-- The per-settlement sums (int_sku_daily_by_settlement) and the refunded units, added up per SKU and day.
daily as (
    select
        account_id,
        marketplace_name,
        currency,
        sku,
        posted_date,
        cast(coalesce(sum(units_sold), 0) as bigint) as units_sold,
        cast(coalesce(sum(units_refunded), 0) as bigint) as units_refunded,
        cast(coalesce(sum(principal), 0) as decimal(18, 2)) as principal,
        {%- for category in categories %}
        cast(coalesce(sum(fees_{{ category }}), 0) as decimal(18, 2)) as fees_{{ category }},
        {%- endfor %}
        cast(coalesce(sum(fees_total), 0) as decimal(18, 2)) as fees_total,
        cast(coalesce(sum(refunds), 0) as decimal(18, 2)) as refunds,
        cast(sum(net_proceeds) as decimal(18, 2)) as net_proceeds,
        cast(sum(line_count) as bigint) as line_count
    from (
        select
            account_id, marketplace_name, currency, sku, posted_date, units_sold,
            cast(null as integer) as units_refunded, principal,
            {%- for category in categories %} fees_{{ category }},{% endfor %}
            fees_total, refunds, net_proceeds, line_count
        from by_settlement
        union all by name
        select
            account_id, marketplace_name, currency, sku, cast(posted_at as date) as posted_date,
            refunded_quantity as units_refunded
        from refund_quantities
    )
    group by account_id, marketplace_name, currency, sku, posted_date
),

rates as (
    select * from {{ ref('int_fx_rates_to_reporting') }}
),

converted as (
    select
        daily.*,
        rates.rate as fx_rate
    from daily
    asof left join rates
        on daily.currency = rates.currency
        and daily.posted_date >= rates.rate_date
),

final as (
    select
        account_id,
        marketplace_name,
        currency,
        sku,
        posted_date,
        units_sold,
        units_refunded,
        principal,
        {%- for category in categories %}
        fees_{{ category }},
        {%- endfor %}
        fees_total,
        refunds,
        cast(net_proceeds - principal - fees_total - refunds as decimal(18, 2)) as other_amounts,
        net_proceeds,
        line_count,
        cast('{{ var("reporting_currency") }}' as varchar) as reporting_currency,
        fx_rate,
        cast(round(net_proceeds * fx_rate, 2) as decimal(18, 2)) as net_proceeds_reporting
    from converted
)

select * from final
