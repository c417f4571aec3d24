{{ config(materialized='table') }}
-- Every settlement line with the posting rule that maps it (seeds/posting_rules.csv, matched on the line's
-- transaction type, amount type and description, its fee_taxonomy category, marketplace, fulfilment channel and
-- SKU group), the month part it belongs to (its posted date in the account's reporting time zone) and the
-- journal line it lands on. A line no rule maps lands on the suspense account and is listed in
-- rpt_books_unmapped. Rebuilt whole on every build, so a change of the rules reprocesses every settlement.
with lines as (
    select * from {{ ref('int_settlement_lines_classified') }}
),

settlements as (
    select * from {{ ref('int_books_settlements') }}
),

sku_groups as (
    select account_id, sku, sku_group from {{ ref('posting_rules_sku_groups') }}
),

keyed as (
    select
        lines.settlement_id,
        lines.line_number,
        settlements.account_id,
        settlements.marketplace_id,
        settlements.marketplace_name,
        settlements.currency,
        settlements.bank_account_key,
        settlements.card_account_key,
        lines.transaction_type,
        lines.amount_type,
        lines.amount_description,
        lines.taxonomy_category,
        nullif(trim(lines.fulfillment_id), '') as fulfilment_channel,
        sku_groups.sku_group,
        lines.amount,
        case
            when lines.has_posted_time then cast(timezone(settlements.time_zone, lines.posted_at) as date)
            else coalesce(lines.posted_date, settlements.local_end_date)
        end as local_posted_date,
        concat_ws(
            chr(31),
            coalesce(lines.transaction_type, ''),
            coalesce(lines.amount_type, ''),
            coalesce(lines.amount_description, ''),
            coalesce(lines.taxonomy_category, ''),
            coalesce(settlements.marketplace_name, ''),
            coalesce(nullif(trim(lines.fulfillment_id), ''), ''),
            coalesce(sku_groups.sku_group, '')
        ) as match_key
    from lines
    inner join settlements on lines.settlement_id = settlements.settlement_id
    left join sku_groups
        on lines.sku = sku_groups.sku
        and (sku_groups.account_id is null or sku_groups.account_id = settlements.account_id)
),

keys as (
    select distinct
        match_key,
        transaction_type,
        amount_type,
        amount_description,
        taxonomy_category,
        marketplace_name,
        fulfilment_channel,
        sku_group
    from keyed
),

matched as (
    {{ best_posting_rules('keys', 'settlement') }}
),

labelled as (
    select
        keyed.* exclude (match_key),
        strftime(keyed.local_posted_date, '%Y-%m') as period_month,
        matched.rule_id,
        matched.rule_version,
        {{ books_posting_label('matched', 'keyed') }}
    from keyed
    left join matched on keyed.match_key = matched.match_key
),

final as (
    select
        *,
        concat_ws(chr(31), category, account_key, tax_key, description) as group_key
    from labelled
)

select * from final
