{#-
  Incremental models keyed by settlement rebuild whole settlements: on an incremental run, only the settlements
  whose (settlement_id, raw_sha256) pair is not in the model's table yet, i.e. new settlements and settlements
  Amazon re-issued with different bytes. With `unique_key: settlement_id` and delete+insert, every old row of
  such a settlement is deleted before its new rows go in, so a re-issue never leaves a row of the older version.

  `changed_settlement_ids(candidates)` runs that comparison once per model and build (the first call, when the
  model's SQL is compiled, before its pre-hook, records the ids in `acorn_build_changes`,
  macros/build_changes.sql; later calls, the pre-hook's among them, read that small table: the comparison, a
  distinct over the model's (settlement_id, raw_sha256), ran twice per model before) and returns the ids;
  `changed_settlements_only` renders them as a list of literals. A literal list, not a subquery, because DuckDB
  pushes a constant filter into the lake's Parquet scan, where each settlement is its own file whose statistics
  name its id: a daily build reads the new settlement's file, not every line of the history, and likewise a
  filter on a warehouse table skips its row groups by their min/max. `candidates` is a relation with
  settlement_id and raw_sha256: the staged settlements (one row per settlement document, written with its lines
  by the same import), not the staged lines, so that finding the changes reads one row per settlement.
-#}
{% macro changed_settlement_ids(candidates) -%}
{%- if not execute or not is_incremental() -%}
{{ return(none) }}
{%- endif -%}
{%- if not keeps_build_changes() -%}
{#- `docs generate`, `compile`: the same comparison, recorded nowhere (they may read a read-only catalog) -#}
{%- set query -%}
select distinct settlement_id from (
    select distinct settlement_id, raw_sha256 from {{ candidates }}
    except
    select distinct settlement_id, raw_sha256 from {{ this }}
)
where settlement_id is not null
order by settlement_id
{%- endset -%}
{{ return(run_query(query).columns[0].values() | list) }}
{%- endif -%}
{%- do record_once_in_this_build(log_changed_settlements(candidates)) -%}
{{ return(keys_changed_in_this_build(this.identifier)) }}
{%- endmacro %}

{#- `settlement_id in (...)` over the changed settlements' ids; `false` when none changed. -#}
{% macro settlement_id_in(ids, column='settlement_id') -%}
{%- if ids | length == 0 -%} false
{%- else -%} {{ column }} in ({% for id in ids %}{{ sql_literal(id) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endif -%}
{%- endmacro %}

{#- A `where` clause keeping the changed settlements on an incremental run; nothing on a full build. -#}
{% macro changed_settlements_only(candidates, column='settlement_id') -%}
{%- if is_incremental() %}
{%- set ids = changed_settlement_ids(candidates) %}
where {{ settlement_id_in(ids if ids is not none else [], column) }}
{%- endif %}
{%- endmacro %}

{#-
  Pre-hook of the incremental models keyed by settlement: delete every row of a settlement whose document
  changed, before the insert. delete+insert alone only deletes the settlements the new batch has rows for, so a
  re-issue that no longer has any fee (or refund) line would leave the older version's rows behind in fct_fees
  (fct_refunds).
-#}
{% macro delete_changed_settlements(candidates) -%}
{%- if is_incremental() -%}
{%- set ids = changed_settlement_ids(candidates) -%}
delete from {{ this }} where {{ settlement_id_in(ids if ids is not none else []) }}
{%- else -%}
{{ log_built_whole() }}
{%- endif -%}
{%- endmacro %}
