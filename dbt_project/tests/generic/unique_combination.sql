{#-
  No hub packages here: the one multi-column uniqueness test the marts need. With `changed_in` (model names) and
  `changed_column` (a column of `columns`, or an expression over them), it checks only the rows of the keys those
  models rewrote in this build, or the whole table when they did not run in it or one was built whole
  (macros/build_changes.sql): the rows of other keys are as the build that wrote them left them, and that build's
  test checked them.

  `changed_key_prefix_of` (a column of `columns`) says that column begins with the key wherever `changed_column`
  equals a key (fct_journal_line_sources: source_key is `settlement_id:line_number`); `changed_null_rows`, a list
  of disjoint conditions over `columns` whose union holds every row where `changed_column` is null. With them the
  test reads each key's rows through a prefix `like` and the null key's through those conditions, each of which
  DuckDB can answer from row groups' min/max, instead of evaluating `changed_column` on every row of the table.
  Each branch still requires `changed_column` to equal its key (or be null), and rows in different branches
  differ in `changed_column`, a function of `columns`, so they can never be duplicates of each other: the test
  checks exactly the rows the plain filter keeps.
-#}
{% test unique_combination(model, columns, changed_in=none, changed_column=none, changed_type='varchar',
                           changed_key_prefix_of=none, changed_null_rows=none) %}
{%- set state = changed_keys_state(changed_in) if changed_in and changed_key_prefix_of else none %}
{%- if state is not none %}
select {{ columns | join(', ') }}, count(*) as occurrences
from (
    select {{ columns | join(', ') }} from {{ model }} where false
    {%- for key in state['keys'] %}
    union all
    select {{ columns | join(', ') }} from {{ model }}
    where {{ prefix_like(changed_key_prefix_of, key) }}
        and {{ changed_column }} = cast({{ sql_literal(key) }} as {{ changed_type }})
    {%- endfor %}
    {%- if state['null_keys'] %}
    {%- for condition in (changed_null_rows or ['true']) %}
    union all
    select {{ columns | join(', ') }} from {{ model }}
    where ({{ condition }}) and {{ changed_column }} is null
    {%- endfor %}
    {%- endif %}
)
group by {{ columns | join(', ') }}
having count(*) > 1
{%- else %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if changed_in %}
where {{ changed_rows_filter(changed_in, changed_column, changed_type) }}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- endif %}
{% endtest %}
