{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='settlement_id',
          on_schema_change='append_new_columns', pre_hook="{{ books_delete_settlements_to_post() }}",
          post_hook="{{ keep_settlement_versions(books_posting_version_columns()) }}") }}
-- Every settlement line with the posting rule that maps it (seeds/posting_rules.csv, matched on the line's
-- transaction type, amount type and description, its fee_taxonomy category, marketplace, fulfilment channel and
-- SKU group), the month part it belongs to (its posted date in the account's reporting time zone) and the
-- journal line it lands on. A line no rule maps lands on the suspense account and is listed in
-- rpt_books_unmapped.
-- Incremental by settlement: a build posts again only the settlements whose document (raw_sha256) or account
-- changed, and every settlement when what the posting reads changed (posting_fingerprint: the rules, the
-- fee taxonomy, the marketplaces, their time zones, the SKU groups and the books' vars), so changed rules give
-- the new postings without redoing the history on every daily build.
-- depends_on: {{ ref('stg_lake_settlements__settlements') }} (books_settlements_to_post reads it)
with fingerprint as (
    {{ books_posting_fingerprint() }}
),

all_settlements as (
    select * from {{ ref('int_books_settlements') }}
),

{#- A table built before posting_fingerprint existed is posted again whole. The settlements to post are found
    first, as literal ids (books_settlements_to_post), so that DuckDB pushes them into the lake's scans: the lines
    of the history are neither read nor classified, nor their marketplaces resolved, on a daily build. -#}
{%- set to_post = books_settlements_posting() %}
settlements as (
    select all_settlements.*
    from all_settlements
    {%- if to_post is not none %}
    where {{ settlement_id_in(to_post, 'all_settlements.settlement_id') }}
    {%- endif %}
),

lines as (
    select * from {{ ref('int_settlement_lines_classified') }}
    where settlement_id in (select settlement_id from settlements)
    {%- if to_post is not none %}
        and {{ settlement_id_in(to_post) }}
    {%- endif %}
),

sku_groups as (
    select account_id, sku, sku_group from {{ ref('posting_rules_sku_groups') }}
),

-- The local date of a posted time: the time zone's offset is looked up once per 15 minutes of UTC time (a
-- time-zone conversion per line with the zone as a column costs about 5 us; offsets change on those boundaries).
zoned as (
    select
        lines.*,
        settlements.time_zone,
        settlements.local_end_date,
        to_timestamp(floor(epoch(lines.posted_at) / 900) * 900) as posted_slot
    from lines
    inner join settlements on lines.settlement_id = settlements.settlement_id
),

slots as (
    select time_zone, posted_slot, timezone(time_zone, posted_slot) as local_slot
    from (select distinct time_zone, posted_slot from zoned where posted_slot is not null)
),

keyed as (
    select
        zoned.settlement_id,
        zoned.line_number,
        settlements.account_id,
        settlements.marketplace_id,
        settlements.marketplace_name,
        settlements.currency,
        settlements.bank_account_key,
        settlements.card_account_key,
        zoned.transaction_type,
        zoned.amount_type,
        zoned.amount_description,
        zoned.taxonomy_category,
        nullif(trim(zoned.fulfillment_id), '') as fulfilment_channel,
        sku_groups.sku_group,
        zoned.amount,
        settlements.raw_sha256,
        case
            when zoned.has_posted_time
                then cast(slots.local_slot + (zoned.posted_at - zoned.posted_slot) as date)
            else coalesce(zoned.posted_date, zoned.local_end_date)
        end as local_posted_date,
        concat_ws(
            chr(31),
            coalesce(zoned.transaction_type, ''),
            coalesce(zoned.amount_type, ''),
            coalesce(zoned.amount_description, ''),
            coalesce(zoned.taxonomy_category, ''),
            coalesce(settlements.marketplace_name, ''),
            coalesce(nullif(trim(zoned.fulfillment_id), ''), ''),
            coalesce(sku_groups.sku_group, '')
        ) as match_key
    from zoned
    inner join settlements on zoned.settlement_id = settlements.settlement_id
    left join slots on zoned.time_zone = slots.time_zone and zoned.posted_slot = slots.posted_slot
    left join sku_groups
        on zoned.sku = sku_groups.sku
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
        concat_ws(chr(31), category, account_key, tax_key, description) as group_key,
        (select posting_fingerprint from fingerprint) as posting_fingerprint,
        -- The journals and their lineage post again only what this dbt invocation posted.
        '{{ invocation_id }}' as posted_in_run
    from labelled
)

select * from final
