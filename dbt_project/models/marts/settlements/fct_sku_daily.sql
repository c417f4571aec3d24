-- Per account, marketplace, currency, SKU and UTC day: units, principal, fees by category, refunds and net
-- proceeds, in the settlement currency; plus net proceeds in the reporting currency at the day's rate.
-- The money columns add up: principal + fees_total + refunds + other_amounts = net_proceeds. Fees and refunds
-- are the lines of line_class fee and refund (int_settlement_lines_classified: one classification of a line for
-- every mart; fees are exactly fct_fees' lines that carry this SKU, including the commission Amazon returns or
-- keeps on a refund; refunds are what the buyer got back: principal, shipping, promotions; taxes are in
-- other_amounts). Only the categories Amazon charges per item have a column of their own: storage,
-- subscription, advertising and the other account-level charges carry no SKU (they are in fct_fees), and the
-- rest of a SKU's fees are in fees_total.
{%- set categories = ['referral_commission', 'fulfilment', 'shipping'] %}
with fee_lines as (
    select settlement_id, line_number, fee_category from {{ ref('fct_fees') }}
),

settlement_lines as (
    select * from {{ ref('fct_settlement_lines') }}
),

-- Units refunded: int_settlement_refund_quantities (the one rule for a refund's quantity, shared with
-- fct_refunds).
refund_quantities as (
    select * from {{ ref('int_settlement_refund_quantities') }}
),

lines as (
    select
        settlement_lines.*,
        settlement_lines.line_class = 'fee' as is_fct_fee,
        fee_lines.fee_category as fct_fee_category,
        refund_quantities.refunded_quantity
    from settlement_lines
    left join fee_lines
        on fee_lines.settlement_id = settlement_lines.settlement_id
        and fee_lines.line_number = settlement_lines.line_number
    left join refund_quantities
        on refund_quantities.settlement_id = settlement_lines.settlement_id
        and refund_quantities.line_number = settlement_lines.line_number
    where settlement_lines.sku is not null
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
        cast(coalesce(sum(refunded_quantity), 0) as bigint) as units_refunded,
        cast(coalesce(sum(amount) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        ), 0) as decimal(18, 2)) as principal,
        {%- for category in categories %}
        cast(coalesce(sum(amount) filter (
            where is_fct_fee and fct_fee_category = '{{ category }}'
        ), 0) as decimal(18, 2)) as fees_{{ category }},
        {%- endfor %}
        cast(coalesce(sum(amount) filter (where is_fct_fee), 0) as decimal(18, 2)) as fees_total,
        cast(coalesce(sum(amount) filter (where line_class = 'refund'), 0) as decimal(18, 2)) as refunds,
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
