{#-
  Money that must add up between two models: per `group_by` key, the sum of `column` in the tested model
  equals the sum of `to_column` over the rows of `to` that match `to_where`, to the cent. A key present on one
  side only counts as zero on the other, so a row lost or counted twice on either side fails.
-#}
{#-
  With a `where` of `acorn_changed_rows:<models>:<column>` (macros/build_changes.sql), where <column> is one of
  `group_by`, both sides are read for the keys those models rewrote in this build only: each key's two sums
  read that key's rows only, and the rows of other keys are as the build that tested them left them.
-#}
{% test sums_agree_by(model, column, group_by, to, to_column, to_where='true') %}
{%- set keys = group_by | join(', ') %}
{%- set where = config.get('where', '') or '' %}
{%- set to_rows = 'true' %}
{%- if where.startswith('acorn_changed_rows:') %}
{%- set parts = where.split(':') %}
{%- if parts[2] not in group_by %}{{ exceptions.raise_compiler_error('sums_agree_by: scope by a key of group_by') }}{% endif %}
{%- set to_rows = changed_rows_filter(parts[1].split(','), parts[2]) %}
{%- endif %}
with tested as (
    select {{ keys }}, sum({{ column }}) as total
    from {{ model }}
    group by {{ keys }}
),

compared as (
    select {{ keys }}, sum({{ to_column }}) as total
    from {{ to }}
    where ({{ to_where }}) and {{ to_rows }}
    group by {{ keys }}
)

select
    {% for key in group_by %}coalesce(tested.{{ key }}, compared.{{ key }}) as {{ key }},{% endfor %}
    coalesce(tested.total, 0) as tested_total,
    coalesce(compared.total, 0) as compared_total
from tested
full outer join compared
    on {% for key in group_by %}tested.{{ key }} is not distinct from compared.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
where coalesce(tested.total, 0) <> coalesce(compared.total, 0)
{% endtest %}
