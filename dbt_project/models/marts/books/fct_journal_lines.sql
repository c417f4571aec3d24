-- One row per journal line: the books ACORN posts for each settlement month part and for the money Amazon
-- deferred and released each month (docs: books_journal). Exporters read this table.
with lines as (
    select * from {{ ref('int_books_journal_lines') }}
),

final as (
    select
        cast(journal_id as varchar) as journal_id,
        cast(journal_kind as varchar) as journal_kind,
        cast(journal_date as date) as journal_date,
        cast(period_month as varchar) as period_month,
        cast(part_number as integer) as part_number,
        cast(is_final_part as boolean) as is_final_part,
        cast(account_id as varchar) as account_id,
        cast(marketplace_id as varchar) as marketplace_id,
        cast(marketplace_name as varchar) as marketplace_name,
        cast(currency as varchar) as currency,
        cast(line_number as integer) as line_number,
        cast(category as varchar) as category,
        cast(account_key as varchar) as account_key,
        cast(account_code as varchar) as account_code,
        cast(account_type as varchar) as account_type,
        cast(tax_key as varchar) as tax_key,
        cast(description as varchar) as description,
        cast(case when signed_amount < 0 then -signed_amount else 0 end as decimal(18, 2)) as debit,
        cast(case when signed_amount > 0 then signed_amount else 0 end as decimal(18, 2)) as credit,
        cast(source_settlement_id as varchar) as source_settlement_id,
        cast(settlement_total as decimal(18, 2)) as settlement_total,
        cast(deposit_date as date) as deposit_date,
        cast(is_negative_settlement as boolean) as is_negative_settlement,
        cast(rule_version as varchar) as rule_version,
        cast(source_row_count as integer) as source_row_count
    from lines
)

select * from final
