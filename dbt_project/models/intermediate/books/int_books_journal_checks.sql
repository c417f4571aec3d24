-- One row per journal: its debits and credits (check books_journals_balance).
with lines as (
    select * from {{ ref('fct_journal_lines') }}
),

final as (
    select
        journal_id,
        journal_kind,
        account_id,
        currency,
        period_month,
        count(*) as line_count,
        cast(sum(debit) as decimal(18, 2)) as debits,
        cast(sum(credit) as decimal(18, 2)) as credits,
        sum(debit) = sum(credit) as is_balanced,
        count(*) filter (where debit <> 0 and credit <> 0 or debit < 0 or credit < 0) as malformed_lines
    from lines
    group by journal_id, journal_kind, account_id, currency, period_month
)

select * from final
