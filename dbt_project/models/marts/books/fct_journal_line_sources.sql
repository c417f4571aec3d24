-- Lineage of the journals: which settlement line (settlement_id:line_number, as in fct_settlement_lines) or
-- which transaction leaf (account_id:transaction_id:leaf_index, as in fct_transactions) each mapped journal line
-- summarises. Rollover, difference, bank and deferred-balance lines summarise the journal itself and have none.
-- Incremental: a build adds the lines of the settlements it posted again (their earlier rows deleted first) and
-- all of the deferred money's, which is small and renumbered as months fill.
{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns',
          pre_hook=["{{ books_log_reposted_sources() }}", "{{ books_delete_reposted_sources() }}"]) }}
with journal_lines as (
    select journal_id, line_number, group_key
    from {{ ref('int_books_journal_lines') }}
    where group_key is not null
),

settlement_sources as (
    select
        'stl:' || account_id || ':' || settlement_id || ':' || period_month as journal_id,
        group_key,
        'settlement_line' as source_kind,
        settlement_id || ':' || line_number as source_key
    from {{ ref('int_books_settlement_lines_posted') }}
    {%- if is_incremental() %}
    where posted_in_run = '{{ invocation_id }}'
    {%- endif %}
),

transaction_sources as (
    select
        journal_id,
        group_key,
        'transaction' as source_kind,
        account_id || ':' || transaction_id || ':' || leaf_index as source_key
    from {{ ref('int_books_deferred_lines_posted') }}
),

sources as (
    select * from settlement_sources
    union all
    select * from transaction_sources
),

final as (
    select
        cast(journal_lines.journal_id as varchar) as journal_id,
        cast(journal_lines.line_number as integer) as line_number,
        cast(sources.source_kind as varchar) as source_kind,
        cast(sources.source_key as varchar) as source_key
    from sources
    inner join journal_lines
        on sources.journal_id = journal_lines.journal_id
        and sources.group_key = journal_lines.group_key
)

select * from final
