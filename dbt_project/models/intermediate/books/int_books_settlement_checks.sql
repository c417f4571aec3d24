-- One row per settlement in the lake, against its journals (checks books_bank_line_equals_total and
-- books_parts_sum_to_total): the bank (or card) line of its final part must be its total-amount, exactly once,
-- and what its month parts post (every line but the rollover and the bank line, credit minus debit) must add
-- up to the same total.
with settlements as (
    select * from {{ ref('int_books_settlements') }}
),

lines as (
    select * from {{ ref('fct_journal_lines') }}
    where journal_kind = 'settlement'
),

per_settlement as (
    select
        source_settlement_id as settlement_id,
        count(distinct journal_id) as journal_count,
        count(*) filter (where category in ('bank', 'card')) as bank_line_count,
        count(*) filter (where category in ('bank', 'card') and not is_final_part) as bank_lines_not_final,
        sum(debit - credit) filter (where category in ('bank', 'card')) as bank_amount,
        sum(credit - debit) filter (where category not in ('bank', 'card', 'split_month_rollover')) as parts_total,
        sum(credit - debit) filter (where category = 'split_month_rollover') as rollover_left,
        count(*) filter (where category = 'unmapped') as unmapped_lines
    from lines
    group by source_settlement_id
),

final as (
    select
        settlements.settlement_id,
        settlements.account_id,
        settlements.currency,
        settlements.total_amount,
        coalesce(per_settlement.journal_count, 0) as journal_count,
        coalesce(per_settlement.bank_line_count, 0) as bank_line_count,
        cast(per_settlement.bank_amount as decimal(18, 2)) as bank_amount,
        cast(per_settlement.parts_total as decimal(18, 2)) as parts_total,
        cast(coalesce(per_settlement.rollover_left, 0) as decimal(18, 2)) as rollover_left,
        coalesce(per_settlement.unmapped_lines, 0) as unmapped_lines,
        coalesce(
            per_settlement.bank_line_count = 1
            and per_settlement.bank_lines_not_final = 0
            and per_settlement.bank_amount = settlements.total_amount,
            false
        ) as bank_line_equals_total,
        coalesce(
            per_settlement.parts_total = settlements.total_amount
            and coalesce(per_settlement.rollover_left, 0) = 0,
            false
        ) as parts_sum_to_total
    from settlements
    left join per_settlement on settlements.settlement_id = per_settlement.settlement_id
)

select * from final
