-- One classification of a line for every mart, and it loses or doubles nothing: per settlement, fct_fees +
-- fct_refunds + the lines of every other class (sale, tax, promotion, reserve, reimbursement, transfer, other)
-- add up exactly, to the cent, to fct_settlement_lines and to the report's total (fct_payouts.total_amount, when
-- the payout reconciles), and every line is counted in exactly one class. A row per settlement that does not.
-- `not materialized`: read several times, these are cheaper to scan again than to materialize whole.
-- Only the settlements this build rewrote in any of the four tables (macros/build_changes.sql; fct_payouts'
-- total and reconciliation are int_payouts_reconciled's, incremental by settlement too): every other
-- settlement's rows are as the build that wrote them left them. The whole tables when none of them ran in this
-- invocation (`dbt test`) or one was built whole.
{%- set changed = changed_rows_filter(
    ['fct_settlement_lines', 'fct_fees', 'fct_refunds', 'int_payouts_reconciled'], 'settlement_id') %}
with lines as not materialized (
    select settlement_id, line_number, line_class, amount from {{ ref('fct_settlement_lines') }}
    where {{ changed }}
),

classed as not materialized (
    select settlement_id, line_number, 'fee' as line_class, amount from {{ ref('fct_fees') }}
    where {{ changed }}
    union all
    select settlement_id, line_number, 'refund', amount from {{ ref('fct_refunds') }}
    where {{ changed }}
    union all
    select settlement_id, line_number, line_class, amount from lines where line_class not in ('fee', 'refund')
),

-- Per line first, then per settlement: the same counts as count(distinct line_number) per settlement, but two
-- plain aggregates DuckDB can spill (a distinct aggregate's state cannot, and ran a first build of 156
-- settlements out of dbt's memory). count(line_number) counts the distinct non-null numbers, as count(distinct)
-- did.
by_line as (
    select settlement_id, line_number, count(*) as classes, sum(amount) as amount
    from classed
    group by settlement_id, line_number
),

by_class as (
    select settlement_id, sum(classes) as classed_lines, count(line_number) as distinct_lines,
        sum(amount) as classed_total
    from by_line
    group by settlement_id
),

settlement_lines as (
    select settlement_id, count(*) as line_count, sum(amount) as lines_total,
        count(*) filter (where line_class is null) as unclassed_lines
    from lines
    group by settlement_id
),

-- A line whose class in fct_fees / fct_refunds is not its class in fct_settlement_lines.
mismatched as (
    select classed.settlement_id, count(*) as mismatched_lines
    from classed
    inner join lines
        on classed.settlement_id = lines.settlement_id and classed.line_number = lines.line_number
    where classed.line_class is distinct from lines.line_class
    group by classed.settlement_id
),

payouts as (
    select settlement_id, total_amount, is_reconciled from {{ ref('fct_payouts') }}
    where {{ changed }}
)

select
    settlement_lines.settlement_id,
    settlement_lines.line_count,
    by_class.classed_lines,
    by_class.distinct_lines,
    settlement_lines.unclassed_lines,
    mismatched.mismatched_lines,
    settlement_lines.lines_total,
    by_class.classed_total,
    payouts.total_amount
from settlement_lines
left join by_class on settlement_lines.settlement_id = by_class.settlement_id
left join mismatched on settlement_lines.settlement_id = mismatched.settlement_id
left join payouts on settlement_lines.settlement_id = payouts.settlement_id
where by_class.settlement_id is null
    or by_class.classed_lines <> settlement_lines.line_count
    or by_class.distinct_lines <> settlement_lines.line_count
    or settlement_lines.unclassed_lines > 0
    or coalesce(mismatched.mismatched_lines, 0) > 0
    or by_class.classed_total <> settlement_lines.lines_total
    or (payouts.is_reconciled and by_class.classed_total <> payouts.total_amount)
