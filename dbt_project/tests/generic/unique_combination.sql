{#-
  No hub packages here: the one multi-column uniqueness test the marts need. With `changed_in` (model names) and
  `changed_column` (a column of `columns`), it checks only the rows of the keys those models rewrote in this
  build, or the whole table when they did not run in it or one was built whole (macros/build_changes.sql): the
  rows of other keys are as the build that wrote them left them, and that build's test checked them.
-#}
{% test unique_combination(model, columns, changed_in=none, changed_column=none, changed_type='varchar') %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
{%- if changed_in %}
where {{ changed_rows_filter(changed_in, changed_column, changed_type) }}
{%- endif %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
