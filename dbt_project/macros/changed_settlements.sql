{#-
  Incremental line facts rebuild whole settlements: on an incremental run, only the settlements whose
  (settlement_id, raw_sha256) pair is not in the table yet, i.e. new settlements and settlements Amazon
  re-issued with different bytes. With `unique_key: settlement_id` and delete+insert, every old line of such a
  settlement is deleted before its new lines go in, so a re-issue never leaves a line of the older version.
  `relation` holds the candidates (with settlement_id and raw_sha256). The line facts pass the staging lines,
  not the classified ones they select from: the same (settlement_id, raw_sha256) pairs (the classification only
  adds columns through left joins), read from two Parquet columns instead of joining every line of the
  history on every build.
-#}
{% macro changed_settlements_only(relation) -%}
{%- if is_incremental() %}
where settlement_id in (
    select settlement_id from (
        select distinct settlement_id, raw_sha256 from {{ relation }}
        except
        select distinct settlement_id, raw_sha256 from {{ this }}
    )
)
{%- endif %}
{%- endmacro %}

{#-
  Pre-hook of the incremental line facts: delete every row of a settlement whose document changed, before the
  insert. delete+insert alone only deletes the settlements the new batch has rows for, so a re-issue that no
  longer has any fee (or refund) line would leave the older version's rows behind in fct_fees (fct_refunds).
-#}
{% macro delete_changed_settlements() -%}
{%- if is_incremental() -%}
delete from {{ this }}
where settlement_id in (
    select settlement_id from (
        select distinct settlement_id, raw_sha256 from {{ ref('stg_lake_settlements__settlement_lines') }}
        except
        select distinct settlement_id, raw_sha256 from {{ this }}
    )
)
{%- endif -%}
{%- endmacro %}
