{#- A value from a dbt var as a SQL string literal (quotes doubled), or a typed null when it is empty. -#}
{% macro sql_literal(value) -%}
    {%- if value is none or value == '' -%} cast(null as varchar)
    {%- else -%} '{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
