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

{#-
  Which version (raw_sha256) of each settlement an incremental model keyed by settlement holds, kept beside it in
  `acorn_settlement_versions` (model, settlement_id, raw_sha256): exactly the model's distinct (settlement_id,
  raw_sha256) pairs, so that finding the changed settlements (`log_changed_settlements`) reads one row per
  settlement instead of scanning two columns of every line of the history (a daily build's cost grew with the
  history by it: 1.1 → 2.0 s of SQL over the six models from 78 to 156 settlements of 100k lines).

  A model whose changed settlements are found by more than their document (the books' postings:
  int_books_settlement_lines_posted posts a settlement again when its account or the posting rules changed, too)
  keeps those columns beside the pair (`columns`: account_id, posting_fingerprint), likewise.

  `keep_settlement_versions`, each such model's post-hook (in the model's transaction, after its insert):
  after an incremental run, the pairs of the settlements it rewrote are replaced by what it now holds of them
  (a settlement whose new version has no row in the model has none, as in the model); after a full build, or
  when the model has no pairs kept yet (a warehouse from before this table), every pair is taken from the model
  once. A build that fails publishes nothing, so the published warehouse never holds one without the other.
-#}
{% macro settlement_versions_relation() -%}
{{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='acorn_settlement_versions')) }}
{%- endmacro %}

{#- on-run-start: the table, once. -#}
{% macro create_settlement_versions() -%}
{%- if not keeps_build_changes() -%}{{ return('') }}{%- endif -%}
{%- set versions = settlement_versions_relation() -%}
create table if not exists {{ versions }} (
    model varchar not null,
    settlement_id varchar,
    raw_sha256 varchar,
    account_id varchar,
    posting_fingerprint varchar
);
{#- The books' columns, added to a table created before them (the other models leave them null). -#}
alter table {{ versions }} add column if not exists account_id varchar;
alter table {{ versions }} add column if not exists posting_fingerprint varchar
{%- endmacro %}

{#- Whether the model's pairs are kept (false before its first post-hook, or on a target without the table). -#}
{% macro settlement_versions_kept(model) -%}
{%- if not execute or not keeps_build_changes() -%}{{ return(false) }}{%- endif -%}
{%- set versions = settlement_versions_relation() -%}
{%- if not relation_exists(versions) -%}
{{ return(false) }}
{%- endif -%}
{%- set query -%}
select count(*) from {{ versions }} where model = '{{ model }}'
{%- endset -%}
{{ return(run_query(query).columns[0].values()[0] > 0) }}
{%- endmacro %}

{#- The model's distinct (settlement_id, raw_sha256, *columns): kept, or read from the model when not kept yet. -#}
{% macro stored_settlement_versions(columns=[]) -%}
{%- set selected = (['settlement_id', 'raw_sha256'] + columns) | join(', ') -%}
{%- if settlement_versions_kept(this.identifier) -%}
select {{ selected }} from {{ settlement_versions_relation() }} where model = '{{ this.identifier }}'
{%- else -%}
select distinct {{ selected }} from {{ this }}
{%- endif -%}
{%- endmacro %}

{#- Post-hook: the pairs (and `columns`) of the settlements this run rewrote, or of every settlement once. -#}
{% macro keep_settlement_versions(columns=[]) -%}
{%- if not keeps_build_changes() -%}{{ return('select 1') }}{%- endif -%}
{%- set versions = settlement_versions_relation() -%}
{%- set selected = (['settlement_id', 'raw_sha256'] + columns) | join(', ') -%}
{%- set only = none -%}
{%- if is_incremental() and settlement_versions_kept(this.identifier) -%}
{%- set ids = keys_changed_in_this_build(this.identifier) -%}
{%- if ids | length == 0 -%}{{ return('select 1') }}{%- endif -%}
{%- set only = settlement_id_in(ids) -%}
{%- endif -%}
delete from {{ versions }} where model = '{{ this.identifier }}'{% if only %} and {{ only }}{% endif %};
insert into {{ versions }} (model, {{ selected }})
select distinct '{{ this.identifier }}', {{ selected }} from {{ this }}{% if only %} where {{ only }}{% endif %}
{%- endmacro %}
