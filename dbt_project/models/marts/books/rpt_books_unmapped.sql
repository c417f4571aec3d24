-- Settlement lines and deferred transaction leaves that no posting rule maps (seeds/posting_rules.csv), per
-- journal and key, with their amounts. They are posted to the suspense account meanwhile, so every journal still
-- balances and equals its deposit; `acorn books export` refuses an account and month that has rows here. Empty
-- when every line maps.
with settlement_lines as (
    select
        account_id,
        settlement_id as source_settlement_id,
        'stl:' || account_id || ':' || settlement_id || ':' || period_month as journal_id,
        period_month,
        marketplace_name,
        currency,
        'settlement_line' as source_kind,
        transaction_type,
        amount_type,
        amount_description,
        amount
    from {{ ref('int_books_settlement_lines_posted') }}
    where rule_id is null
),

transaction_leaves as (
    select
        account_id,
        cast(null as varchar) as source_settlement_id,
        journal_id,
        period_month,
        marketplace_name,
        currency,
        'transaction' as source_kind,
        transaction_type,
        amount_type,
        amount_description,
        signed_amount as amount
    from {{ ref('int_books_deferred_lines_posted') }}
    where rule_id is null
),

unmapped as (
    select * from settlement_lines
    union all
    select * from transaction_leaves
),

final as (
    select
        cast(account_id as varchar) as account_id,
        cast(source_settlement_id as varchar) as source_settlement_id,
        cast(marketplace_name as varchar) as marketplace_name,
        cast(currency as varchar) as currency,
        cast(source_kind as varchar) as source_kind,
        cast(transaction_type as varchar) as transaction_type,
        cast(amount_type as varchar) as amount_type,
        cast(amount_description as varchar) as amount_description,
        cast(count(*) as integer) as line_count,
        cast(sum(amount) as decimal(18, 2)) as amount,
        cast(period_month as varchar) as period_month,
        cast(journal_id as varchar) as journal_id
    from unmapped
    group by all
)

select * from final
