{#- Money arithmetic as a test: the `parts` columns add up to `total`, exactly, on every row. -#}
{% test columns_add_up(model, parts, total) %}
select *
from {{ model }}
where {{ parts | join(' + ') }} <> {{ total }}
{% endtest %}
