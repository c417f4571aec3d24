{% macro vendor_as_of_date() -%}
    {#- The date vendor invoices are aged against: var vendor_as_of_date, else the build's UTC date. -#}
    {%- set as_of = var('vendor_as_of_date') -%}
    {%- if as_of -%} cast('{{ as_of }}' as date) {%- else -%} cast(timezone('UTC', now()) as date) {%- endif -%}
{%- endmacro %}
