-- Per account, marketplace, currency, SKU and UTC day: units, principal, fees by category, refunds and net
-- proceeds, in the settlement currency; plus net proceeds in the reporting currency at the day's rate.
-- The money columns add up: principal + fees_total + refunds + other_amounts = net_proceeds. Fees here are the
-- fee lines of sales and service charges; the fees Amazon returns or keeps on a refund are in `refunds`.
{%- set categories = ['referral_commission', 'fulfilment', 'storage', 'subscription', 'advertising',
                      'refund_administration', 'shipping', 'promotion', 'tax', 'reserve', 'other'] %}
with lines as (
    select * from {{ ref('fct_settlement_lines') }}
    where sku is not null
),

rates as (
    select * from {{ ref('int_fx_rates_to_reporting') }}
),

daily as (
    select
        account_id,
        marketplace_name,
        currency,
        sku,
        cast(posted_at as date) as posted_date,
        cast(coalesce(sum(quantity) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ), 0) as bigint) as units_sold,
        cast(coalesce(sum(quantity) filter (
            where transaction_type = 'Refund' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ), 0) as bigint) as units_refunded,
        cast(coalesce(sum(amount) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ), 0) as decimal(18, 2)) as principal,
        {%- for category in categories %}
        cast(coalesce(sum(amount) filter (
            where is_fee and not is_refund and fee_category = '{{ category }}'
        ), 0) as decimal(18, 2)) as fees_{{ category }},
        {%- endfor %}
        cast(coalesce(sum(amount) filter (where is_fee and not is_refund), 0) as decimal(18, 2)) as fees_total,
        cast(coalesce(sum(amount) filter (where is_refund), 0) as decimal(18, 2)) as refunds,
        cast(sum(amount) as decimal(18, 2)) as net_proceeds,
        count(*) as line_count
    from lines
    group by account_id, marketplace_name, currency, sku, cast(posted_at as date)
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
