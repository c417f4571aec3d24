-- Deferred money (DD+7, invoiced orders) as the books post it: each counted breakdown leaf of a transaction
-- Amazon deferred, once in the month it was deferred (its posted date) and, when released, once in the month it
-- was released (its maturity date), each in the account's reporting time zone, mapped by the posting rules
-- (source `transaction`: amount_type is the breakdown path without its leaf, amount_description the leaf).
-- The same rule as int_deferred_balances_compared: deferred at posted_at, released at maturity_at when the
-- status is DEFERRED_RELEASED.
with leaves as (
    select * from {{ ref('fct_transactions') }}
    where counts_toward_total
        and deferral_reason is not null
        and transaction_status in ('DEFERRED', 'DEFERRED_RELEASED')
),

marketplaces as (
    select * from {{ ref('int_books_marketplaces') }}
),

sku_groups as (
    select account_id, sku, sku_group from {{ ref('posting_rules_sku_groups') }}
),

keyed as (
    select
        leaves.account_id,
        leaves.transaction_id,
        leaves.leaf_index,
        leaves.transaction_status,
        leaves.posted_at,
        leaves.maturity_at,
        coalesce(leaves.marketplace_id, 'unknown') as marketplace_id,
        coalesce(marketplaces.marketplace_name, leaves.marketplace_name) as marketplace_name,
        leaves.currency,
        leaves.deferral_reason,
        coalesce(marketplaces.bank_account_key, 'bank_amazon_other') as bank_account_key,
        coalesce(marketplaces.card_account_key, 'card_amazon_other') as card_account_key,
        {{ books_time_zone('leaves.account_id', 'marketplaces.time_zone') }} as time_zone,
        leaves.transaction_type,
        case
            when contains(leaves.breakdown_path, '/') then regexp_replace(leaves.breakdown_path, '/[^/]*$', '')
        end as amount_type,
        leaves.breakdown_type as amount_description,
        leaves.fee_category as taxonomy_category,
        cast(null as varchar) as fulfilment_channel,
        sku_groups.sku_group,
        leaves.amount
    from leaves
    left join marketplaces on leaves.marketplace_id = marketplaces.marketplace_id
    left join sku_groups
        on leaves.sku = sku_groups.sku
        and (sku_groups.account_id is null or sku_groups.account_id = leaves.account_id)
),

with_key as (
    select
        *,
        concat_ws(
            chr(31),
            coalesce(transaction_type, ''),
            coalesce(amount_type, ''),
            coalesce(amount_description, ''),
            coalesce(taxonomy_category, ''),
            coalesce(marketplace_name, ''),
            '',
            coalesce(sku_group, '')
        ) as match_key
    from keyed
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
    from with_key
),

matched as (
    {{ best_posting_rules('keys', 'transaction') }}
),

labelled as (
    select
        with_key.* exclude (match_key),
        matched.rule_id,
        matched.rule_version,
        {{ books_posting_label('matched', 'with_key') }}
    from with_key
    left join matched on with_key.match_key = matched.match_key
),

events as (
    select
        *,
        'deferred' as journal_kind,
        posted_at as event_at,
        amount as signed_amount
    from labelled
    union all
    select
        *,
        'released' as journal_kind,
        maturity_at as event_at,
        -amount as signed_amount
    from labelled
    where transaction_status = 'DEFERRED_RELEASED' and maturity_at is not null
),

final as (
    select
        *,
        strftime(timezone(time_zone, event_at), '%Y-%m') as period_month,
        case journal_kind when 'deferred' then 'def' else 'rel' end
            || ':' || account_id || ':' || marketplace_id || ':'
            || strftime(timezone(time_zone, event_at), '%Y-%m') || ':' || deferral_reason as journal_id,
        concat_ws(chr(31), category, account_key, tax_key, description) as group_key
    from events
)

select * from final
