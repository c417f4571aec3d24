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
  bounded path (new settlements only) no line count can fall, and a refund's units can change only for the
  (account, order, SKU) keys of the new settlements' lines: the stale days are then the days summed plus every
  day holding a refund line of those keys (a superset of the days whose refunded units changed: a day rewritten
  with unchanged figures is rewritten as it was), found without summing or comparing the history.
  The pre-hooks record and delete those days; the model then inserts every day the per-settlement sums have and the mart
  no longer has, so a day left with no line is simply gone.
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
    and sku is not null
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
  First pre-hook of fct_sku_daily: record the days this build rewrites in `acorn_build_changes`
  (macros/build_changes.sql), the stale days above (the query runs once) and the days the per-settlement sums
  have and the mart does not; on a full build, that every day is new. The mart's data tests then check those
  days only.
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
    select posted_date from (select posted_date from {{ by_settlement }} except select posted_date from {{ this }})
) as rewritten(posted_date)
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
