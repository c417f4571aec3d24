{#-
  fct_sku_daily is incremental by posted day: a build rewrites the days whose figures may have changed and keeps
  the others. `sku_daily_stale_days()` is those days, as a query (run when the model runs, before its insert):
    - every day of a settlement summed in this build (int_sku_daily_by_settlement rows of this invocation: new
      and re-issued settlements);
    - every day whose line count in the mart differs from the per-settlement sums' (a re-issue that dropped
      its lines of a day: line counts only fall there, so no other change can hide it);
    - every day where the units refunded the mart holds differ, per SKU, from what the refund rule says now
      (int_settlement_refund_quantities: a refund's units can change when Amazon's Finances transactions or
      another settlement's order arrive).
  Those are the days of a full comparison, run when the refund rule's bounded path does not hold (a re-issue, a
  Finances change, a model built whole: macros/refund_quantities.sql, `refund_rule_changed_settlements`). On the
  bounded path (new settlements only) no line count can fall, and a stored refund's units can change only for
  the (account, order, SKU) keys of the new settlements' order lines (`refund_rule_keys`), and only when it
  states no quantity of its own: the stale days are then the days summed plus every day holding such a refund
  line of those keys (a superset of the days whose refunded units changed: a day rewritten with unchanged
  figures is rewritten as it was), found without summing or comparing the history.
  The model records those days when its SQL is compiled (`sku_daily_days`, before its pre-hooks), the pre-hook
  deletes them, and the model inserts those days again from the per-settlement sums, naming them as literals
  (DuckDB then reads their row groups only), so a day left with no line is simply gone.
-#}
{% macro sku_daily_stale_days(by_settlement, refund_quantities) -%}
{%- set ids = refund_rule_changed_settlements(['int_sku_daily_by_settlement']) -%}
select posted_date from {{ by_settlement }} where built_in_invocation = '{{ invocation_id }}'
{%- if ids is not none %}
union
select cast(posted_at as date)
from {{ model_relation('fct_settlement_lines') }}
semi join ({{ refund_rule_keys(ids) }}) as rule_keys using (account_id, order_id, sku)
where transaction_type = 'Refund' and amount_type = 'ItemPrice' and amount_description = 'Principal'
    and sku is not null and quantity is null
{%- else %}
union
select coalesce(summed.posted_date, stored.posted_date)
from (select posted_date, sum(line_count) as line_count from {{ by_settlement }} group by posted_date) as summed
full outer join (select posted_date, sum(line_count) as line_count from {{ this }} group by posted_date) as stored
    on summed.posted_date is not distinct from stored.posted_date
where coalesce(summed.line_count, 0) <> coalesce(stored.line_count, 0)
union
select coalesce(refunded.posted_date, stored.posted_date)
from (
    select account_id, marketplace_name, currency, sku, cast(posted_at as date) as posted_date,
        sum(refunded_quantity) as units_refunded
    from {{ refund_quantities }}
    group by all
) as refunded
full outer join (
    select account_id, marketplace_name, currency, sku, posted_date, units_refunded
    from {{ this }}
    where units_refunded <> 0
) as stored
    on refunded.account_id is not distinct from stored.account_id
    and refunded.marketplace_name is not distinct from stored.marketplace_name
    and refunded.currency is not distinct from stored.currency
    and refunded.sku is not distinct from stored.sku
    and refunded.posted_date is not distinct from stored.posted_date
where coalesce(refunded.units_refunded, 0) <> coalesce(stored.units_refunded, 0)
{%- endif %}
{%- endmacro %}

{#-
  The days this build rewrites, recorded in `acorn_build_changes` (macros/build_changes.sql) once per build: the
  stale days above (the query runs once) and the days the per-settlement sums have and the mart does not. The
  mart's data tests then check those days only. `log_changed_days` is that insert; on a full build, it records
  that every day is new.
-#}
{% macro log_changed_days(by_settlement, refund_quantities) -%}
{%- if is_incremental() -%}
insert into {{ build_changes_relation() }} (invocation_id, model, kind, key)
select '{{ invocation_id }}', '{{ this.identifier }}', 'ran', null
union all
select '{{ invocation_id }}', '{{ this.identifier }}', 'key', cast(posted_date as varchar)
from (
    {{ sku_daily_stale_days(by_settlement, refund_quantities) }}
    union
    -- `distinct` on each side: the days, not every row's (EXCEPT keeps distinct days either way; an EXCEPT of the
    -- rows anti-joined the per-settlement sums' 3M rows with the mart's at H = 78: 0.1-0.3 s against 0.05-0.07 s).
    select posted_date from (
        select distinct posted_date from {{ by_settlement }} except select distinct posted_date from {{ this }}
    )
) as rewritten(posted_date)
{%- else -%}
{{ log_built_whole() }}
{%- endif -%}
{%- endmacro %}

{#-
  The days an incremental build of fct_sku_daily rewrites, as a dict: `days`, the days (ISO strings, sorted), and
  `null_day`, whether the null day is among them; recorded first if this build has not recorded them yet (the
  first call, when the model's SQL is compiled, before its pre-hooks; the pre-hook's call reads them back).
  `none` when dbt keeps no record (a full build, `compile`, `docs generate`): the model then finds the days with a
  query.
-#}
{% macro sku_daily_days(by_settlement, refund_quantities) -%}
{%- if not execute or not is_incremental() or not keeps_build_changes() -%}{{ return(none) }}{%- endif -%}
{%- do record_once_in_this_build(log_changed_days(by_settlement, refund_quantities)) -%}
{%- set query -%}
select distinct key from {{ build_changes_relation() }}
where invocation_id = '{{ invocation_id }}' and model = '{{ this.identifier }}' and kind = 'key'
{%- endset -%}
{%- set keys = run_query(query).columns[0].values() | list -%}
{%- set days = [] -%}
{%- for key in keys if key is not none -%}{%- do days.append(key) -%}{%- endfor -%}
{{ return({'days': days | sort, 'null_day': none in keys}) }}
{%- endmacro %}

{#-
  A condition keeping the rows of `stale` (sku_daily_days) by their day, `day` (an expression of the row's UTC
  day). With `timestamp_column`, the day is that column's date, and the condition also bounds the column by
  ranges around the days, which DuckDB checks against each row group's min/max (not a cast of the column): one
  range per run of days (a day before and after each, so the ranges hold whatever the session's time zone), or
  one range from the first day to the last when the days make more than 20 runs.
-#}
{% macro sku_daily_days_condition(stale, day, timestamp_column=none) -%}
{%- set parts = [] -%}
{%- if stale['days'] | length > 0 -%}
{%- set literals = [] -%}
{%- for d in stale['days'] -%}{%- do literals.append("date '" ~ d ~ "'") -%}{%- endfor -%}
{%- set in_days = day ~ ' in (' ~ (literals | join(', ')) ~ ')' -%}
{%- if timestamp_column is not none -%}
{%- set one = modules.datetime.timedelta(days=1) -%}
{%- set runs = [] -%}
{%- for d in stale['days'] -%}
{%- set a_day = modules.datetime.date.fromisoformat(d) -%}
{%- if runs and a_day - runs[-1]['last'] <= one -%}{%- do runs[-1].update({'last': a_day}) -%}
{%- else -%}{%- do runs.append({'first': a_day, 'last': a_day}) -%}
{%- endif -%}
{%- endfor -%}
{%- if runs | length > 20 -%}{%- set runs = [{'first': runs[0]['first'], 'last': runs[-1]['last']}] -%}{%- endif -%}
{%- set ranges = [] -%}
{%- for run in runs -%}
{%- do ranges.append('(' ~ timestamp_column ~ " >= timestamptz '" ~ (run['first'] - one).isoformat()
    ~ " 00:00:00+00' and " ~ timestamp_column ~ " < timestamptz '" ~ (run['last'] + one + one).isoformat()
    ~ " 00:00:00+00')") -%}
{%- endfor -%}
{%- set in_days = '(' ~ (ranges | join(' or ')) ~ ') and ' ~ in_days -%}
{%- endif -%}
{%- do parts.append('(' ~ in_days ~ ')') -%}
{%- endif -%}
{%- if stale['null_day'] -%}{%- do parts.append(day ~ ' is null') -%}{%- endif -%}
{{ return('(' ~ (parts | join(' or ') if parts else 'false') ~ ')') }}
{%- endmacro %}

{#-
  First pre-hook of fct_sku_daily: on a full build, record that every day is new; on an incremental one, the
  days were recorded when the model's SQL was compiled (sku_daily_days records them here if not).
-#}
{% macro record_sku_daily_days(by_settlement, refund_quantities) -%}
{%- if is_incremental() -%}
{%- do sku_daily_days(by_settlement, refund_quantities) -%}
{%- else -%}
{{ log_built_whole() }}
{%- endif -%}
{%- endmacro %}

{#- Second pre-hook of fct_sku_daily: delete the days recorded (a null day matches a null day). -#}
{% macro delete_sku_daily_stale_days() -%}
{%- if is_incremental() -%}
delete from {{ this }}
using (
    select cast(key as date) as posted_date from {{ build_changes_relation() }}
    where invocation_id = '{{ invocation_id }}' and model = '{{ this.identifier }}' and kind = 'key'
) as stale
where {{ this }}.posted_date is not distinct from stale.posted_date
{%- endif -%}
{%- endmacro %}
