{#-
  dbt's `not_null` for every listed column of a model at once: one test (one dbt node, one Dagster check
  `columns_not_null_<model>`) and one scan that counts each column's nulls, instead of one node and one scan per
  column. Each column fails on the same rows as its `not_null` did (`<column> is null`, over the rows the test's
  `where` keeps: `acorn_changed_rows:...` scopes it as it scoped them, macros/build_changes.sql). A failure returns
  one row per column holding a null, naming the column and its count of null rows, and the test's failures
  (dbt's count, Dagster's `dagster_dbt/failed_row_count`) add those counts up: the number the per-column tests'
  failures added up to.
-#}
{% test columns_not_null(model, columns) %}
{{ config(fail_calc='coalesce(sum(null_rows), 0)') }}
with counted as (
    select
    {%- for column in columns %}
        count(*) filter (where {{ column }} is null) as null_rows_{{ loop.index }}{{ ',' if not loop.last }}
    {%- endfor %}
    from {{ model }}
),

per_column as (
    {%- for column in columns %}
    select {{ sql_literal(column) }} as column_name, null_rows_{{ loop.index }} as null_rows from counted
    {{- ' union all' if not loop.last }}
    {%- endfor %}
)

select column_name, null_rows
from per_column
where null_rows > 0
{% endtest %}
