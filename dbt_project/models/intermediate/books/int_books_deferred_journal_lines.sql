-- The deferred-money journals, before numbering: per account, marketplace, month and deferral reason, one
-- journal for the money Amazon deferred in the month (the mapped amounts credited or debited as a settlement
-- would, against a debit to the deferred-balances asset) and one for the money it released (the reverse, as the
-- settlement that pays it out posts it again). Dated the month's last day. Settlement journals stay cash-pure.
with posted as (
    select * from {{ ref('int_books_deferred_lines_posted') }}
),

mapped_lines as (
    select
        journal_id,
        journal_kind,
        period_month,
        account_id,
        marketplace_id,
        marketplace_name,
        currency,
        1 as sort_group,
        category,
        account_key,
        tax_key,
        description,
        group_key,
        sum(signed_amount) as signed_amount,
        count(*) as source_row_count,
        string_agg(distinct rule_version, ',' order by rule_version) as rule_version
    from posted
    group by all
),

balance_lines as (
    select
        journal_id,
        journal_kind,
        period_month,
        account_id,
        marketplace_id,
        marketplace_name,
        currency,
        2 as sort_group,
        'deferred_balances' as category,
        'amazon_deferred_balances' as account_key,
        'no_tax' as tax_key,
        case journal_kind
            when 'deferred' then 'Deferred by Amazon, not paid out yet'
            else 'Released by Amazon into a settlement'
        end as description,
        cast(null as varchar) as group_key,
        -sum(signed_amount) as signed_amount,
        count(*) as source_row_count,
        string_agg(distinct rule_version, ',' order by rule_version) as rule_version
    from posted
    group by all
),

all_lines as (
    select * from mapped_lines
    union all by name
    select * from balance_lines
),

final as (
    select
        journal_id,
        journal_kind,
        last_day(cast(strptime(period_month || '-01', '%Y-%m-%d') as date)) as journal_date,
        period_month,
        1 as part_number,
        true as is_final_part,
        account_id,
        marketplace_id,
        marketplace_name,
        currency,
        sort_group,
        category,
        account_key,
        tax_key,
        description,
        group_key,
        signed_amount,
        cast(null as varchar) as source_settlement_id,
        cast(null as decimal(18, 2)) as settlement_total,
        cast(null as date) as deposit_date,
        false as is_negative_settlement,
        rule_version,
        source_row_count
    from all_lines
    where signed_amount <> 0 or sort_group = 2
)

select * from final
