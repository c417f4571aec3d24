-- The settlement journals, one per settlement month part, before numbering: what each line posts as
-- signed_amount (positive = credit, negative = debit). Every part balances: a settlement line's amount is
-- money to the seller, so revenue is credited, fees debited, a refunded fee credited back, sales tax collected
-- credited to the liability and the tax Amazon remits for the seller debited to it, the current reserve
-- debited to the reserved-balances asset and the previous one credited back. An earlier part's net goes to
-- the split-month rollover account; the final part brings it back and debits the bank account with the
-- settlement's total-amount (a negative settlement credits the card or clearing account instead). A
-- settlement whose lines do not add up to its total puts the difference on the suspense account (its
-- settlement_reconciles check fails), so the bank line is the deposit, always.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='source_settlement_id',
          on_schema_change='append_new_columns') }}
-- Incremental by settlement: a build computes the journals of the settlements it posted again
-- (int_books_settlement_lines_posted.posted_in_run) and of those without lines; the others keep theirs. The
-- settlements are found first (books_journal_settlements, macros/books.sql) and read as literal ids, which DuckDB
-- pushes into the posted lines' scan (their row groups' min/max): a daily build reads the new settlement's posted
-- lines, not the history's (a subquery there read and materialized every posted line).
{%- set changed = books_journal_settlements() if is_incremental() else none %}
with posted as (
    select * from {{ ref('int_books_settlement_lines_posted') }}
    {%- if changed is not none %}
    where {{ settlement_id_in(changed) }}
    {%- else %}
    where settlement_id in (select settlement_id from {{ ref('int_books_settlements') }})
    {%- endif %}
),

settlements as (
    select * from {{ ref('int_books_settlements') }}
    {%- if changed is not none %}
    where {{ settlement_id_in(changed) }}
    {%- endif %}
),

lines_total as (
    select settlement_id, sum(amount) as lines_total, count(*) as line_count
    from posted
    group by settlement_id
),

parts_with_lines as (
    select
        settlement_id,
        period_month,
        max(local_posted_date) as last_posted_date,
        sum(amount) as part_net,
        count(*) as part_lines
    from posted
    group by settlement_id, period_month
),

-- A settlement without lines still gets its final part (its bank line, the total on suspense).
parts_without_lines as (
    select
        settlements.settlement_id,
        strftime(settlements.local_end_date, '%Y-%m') as period_month,
        settlements.local_end_date as last_posted_date,
        cast(0 as decimal(18, 2)) as part_net,
        0 as part_lines
    from settlements
    anti join lines_total on settlements.settlement_id = lines_total.settlement_id
),

parts as (
    select * from parts_with_lines
    union all
    select * from parts_without_lines
),

numbered as (
    select
        parts.*,
        row_number() over (partition by parts.settlement_id order by parts.period_month) as part_number,
        count(*) over (partition by parts.settlement_id) as part_count,
        coalesce(
            sum(parts.part_net) over (
                partition by parts.settlement_id order by parts.period_month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as carried_in,
        coalesce(
            sum(parts.part_lines) over (
                partition by parts.settlement_id order by parts.period_month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as carried_lines
    from parts
),

journals as (
    select
        numbered.settlement_id,
        numbered.period_month,
        numbered.part_number,
        numbered.part_number = numbered.part_count as is_final_part,
        numbered.part_net,
        numbered.part_lines,
        numbered.carried_in,
        numbered.carried_lines,
        'stl:' || settlements.account_id || ':' || numbered.settlement_id || ':' || numbered.period_month
            as journal_id,
        case
            when numbered.part_number = numbered.part_count
                then greatest(
                    numbered.last_posted_date,
                    least(
                        settlements.local_end_date,
                        last_day(cast(strptime(numbered.period_month || '-01', '%Y-%m-%d') as date))
                    )
                )
            else numbered.last_posted_date
        end as journal_date,
        settlements.account_id,
        settlements.marketplace_id,
        settlements.marketplace_name,
        settlements.currency,
        settlements.total_amount,
        settlements.local_deposit_date,
        settlements.bank_account_key,
        settlements.card_account_key,
        coalesce(lines_total.lines_total, 0) as lines_total,
        coalesce(lines_total.line_count, 0) as line_count
    from numbered
    inner join settlements on numbered.settlement_id = settlements.settlement_id
    left join lines_total on numbered.settlement_id = lines_total.settlement_id
),

rule_versions as (
    select string_agg(distinct rule_version, ',' order by rule_version) as rule_version
    from {{ ref('int_books_posting_rules') }}
),

mapped_lines as (
    select
        posted.settlement_id,
        posted.period_month,
        1 as sort_group,
        posted.category,
        posted.account_key,
        posted.tax_key,
        posted.description,
        posted.group_key,
        sum(posted.amount) as signed_amount,
        count(*) as source_row_count,
        string_agg(distinct posted.rule_version, ',' order by posted.rule_version) as rule_version
    from posted
    group by all
),

rollover_lines as (
    select
        settlement_id,
        period_month,
        2 as sort_group,
        'split_month_rollover' as category,
        'amazon_split_month_rollover' as account_key,
        'no_tax' as tax_key,
        case
            when is_final_part then 'Brought forward from the earlier month parts of this settlement'
            else 'Carried to the next month part of this settlement'
        end as description,
        case when is_final_part then carried_in else -part_net end as signed_amount,
        case when is_final_part then carried_lines else part_lines end as source_row_count
    from journals
    where (is_final_part and part_number > 1) or not is_final_part
),

difference_lines as (
    select
        settlement_id,
        period_month,
        3 as sort_group,
        'unreconciled' as category,
        'amazon_suspense' as account_key,
        'no_tax' as tax_key,
        'Settlement total differs from the sum of its lines (not reconciled)' as description,
        total_amount - lines_total as signed_amount,
        line_count as source_row_count
    from journals
    where is_final_part and total_amount <> lines_total
),

bank_lines as (
    select
        settlement_id,
        period_month,
        4 as sort_group,
        case when total_amount < 0 then 'card' else 'bank' end as category,
        case when total_amount < 0 then card_account_key else bank_account_key end as account_key,
        'no_tax' as tax_key,
        case
            when total_amount < 0 then 'Amazon settlement charged (negative settlement)'
            else 'Amazon settlement deposit'
        end as description,
        -total_amount as signed_amount,
        line_count as source_row_count
    from journals
    where is_final_part
),

generated_lines as (
    select *, null as group_key, (select rule_version from rule_versions) as rule_version
    from rollover_lines
    union all by name
    select *, null as group_key, (select rule_version from rule_versions) as rule_version
    from difference_lines
    union all by name
    select *, null as group_key, (select rule_version from rule_versions) as rule_version
    from bank_lines
),

all_lines as (
    select * from mapped_lines
    union all by name
    select * from generated_lines
),

final as (
    select
        journals.journal_id,
        'settlement' as journal_kind,
        journals.journal_date,
        journals.period_month,
        journals.part_number,
        journals.is_final_part,
        journals.account_id,
        journals.marketplace_id,
        journals.marketplace_name,
        journals.currency,
        all_lines.sort_group,
        all_lines.category,
        all_lines.account_key,
        all_lines.tax_key,
        all_lines.description,
        all_lines.group_key,
        all_lines.signed_amount,
        journals.settlement_id as source_settlement_id,
        journals.total_amount as settlement_total,
        journals.local_deposit_date as deposit_date,
        journals.total_amount < 0 as is_negative_settlement,
        all_lines.rule_version,
        all_lines.source_row_count
    from all_lines
    inner join journals
        on all_lines.settlement_id = journals.settlement_id
        and all_lines.period_month = journals.period_month
    -- A line that nets to zero posts nothing; the bank line stays (the deposit, even of zero).
    where all_lines.signed_amount <> 0 or all_lines.sort_group = 4
)

select * from final
