{{ config(materialized='table') }}
-- Every journal line, numbered: settlement month parts, then deferred and released money. line_number orders
-- a journal's lines by kind (mapped amounts, rollover, difference, bank), then category, account, tax and
-- description. group_key ties a mapped line to the settlement lines or transactions it summarises
-- (fct_journal_line_sources).
with unioned as (
    select * from {{ ref('int_books_settlement_journal_lines') }}
    union all by name
    select * from {{ ref('int_books_deferred_journal_lines') }}
),

chart as (
    select * from {{ ref('books_default_chart') }}
),

final as (
    select
        unioned.*,
        row_number() over (
            partition by unioned.journal_id
            order by
                unioned.sort_group, unioned.category, unioned.account_key, unioned.tax_key, unioned.description
        ) as line_number,
        chart.account_code,
        chart.account_type
    from unioned
    left join chart on unioned.account_key = chart.account_key
)

select * from final
