{#- A marketplace's name as the marketplaces seed spells it (`Amazon.com`, not `amazon.com`): by its id when the
    source gives one, else by the name whatever its case; a name the seed does not know is kept as it came. -#}
{% macro canonical_marketplace_name(name_column, id_column=none) -%}
    coalesce(
        {%- if id_column %}
        (select seed.marketplace_name from {{ ref('marketplaces') }} as seed
         where seed.marketplace_id = {{ id_column }}),
        {%- endif %}
        (select seed.marketplace_name from {{ ref('marketplaces') }} as seed
         where lower(seed.marketplace_name) = lower({{ name_column }})),
        cast({{ name_column }} as varchar)
    )
{%- endmacro %}
