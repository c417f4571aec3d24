{#-
  What a build changed, so that the data tests over the tables that grow with the history check the rows a build
  wrote, not every row of the history (README, Performance: "Issue 16, scoped tests").

  `acorn_build_changes` (the target's schema, created by `on-run-start`) holds, per incremental model:
    - `kind = 'ran'`: the model ran incrementally in invocation `invocation_id` (one row per run);
    - `kind = 'all'`: the model was built whole (first build or full refresh): its every row is new;
    - `kind = 'key'`: the model rewrote the rows of `key` (a settlement id, or a day for fct_sku_daily; a null
      key is the null day), and kept every other row as it was;
    - `kind = 'reissued'`: of the settlements it rewrote, one it held another version of (a re-issue: rows of
      the older version are gone); read by the refund rule's bounded path (macros/refund_quantities.sql).
  The model writes them itself, when it runs (`log_changed_settlements` from `changed_settlement_ids`, run when
  its SQL is compiled; `log_changed_days` from `sku_daily_days`, likewise for fct_sku_daily; `log_built_whole`,
  a pre-hook), from the comparison of what is staged with what it holds: nothing else decides what changed, so
  a Dagster subset run that builds some models and not others cannot make one model's record wrong for another.

  A row stays until every scoped data test that reads it has passed in one build (`on-run-end`:
  `settle_build_changes`); so a key whose tests did not run (a subset run) or failed is checked again by every
  later build until they pass.

  A scoped test (`changed_rows_filter`) checks the whole table when the models it reads did not run in this
  invocation (`dbt test` alone), or when one was built whole; else only the rows of the keys recorded.
-#}

{% macro build_changes_relation() -%}
{{ return(api.Relation.create(database=target.database, schema=target.schema, identifier='acorn_build_changes')) }}
{%- endmacro %}

{#- Whether `relation` (a Relation) exists in the warehouse. -#}
{% macro relation_exists(relation) -%}
{{ return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) is not none) }}
{%- endmacro %}

{#- on-run-start: the table, once. -#}
{#- Whether this dbt command builds or tests (and so keeps the record): `docs generate` and `compile` write nothing
    (the docs of a DuckLake catalog attach it read-only at its published snapshot). -#}
{% macro keeps_build_changes() -%}
{{ return(flags.WHICH in ('build', 'run', 'test', 'retry')) }}
{%- endmacro %}

{% macro create_build_changes() -%}
{%- if not keeps_build_changes() -%}{{ return('') }}{%- endif -%}
create table if not exists {{ build_changes_relation() }} (
    invocation_id varchar not null,
    model varchar not null,
    kind varchar not null,
    key varchar
)
{%- endmacro %}

{#-
  An incremental model keyed by settlement, when it runs: record the settlements whose (settlement_id,
  raw_sha256) pair `candidates` (the staged settlements: one row per settlement document) has and the model
  does not, i.e. new settlements and re-issues (macros/changed_settlements.sql). A distinct over the model's
  pairs, which DuckDB hashes into one group per settlement while it scans two columns: measured cheaper than an
  anti join probing the model with the staged pairs (0.07 against 0.15 CPU s over 2M rows).
-#}
{% macro log_changed_settlements(candidates) -%}
{%- set log = build_changes_relation() -%}
{%- if is_incremental() -%}
insert into {{ log }} (invocation_id, model, kind, key)
with stored as (
    {{ stored_settlement_versions() }}
),

changed as (
    select distinct settlement_id from (
        select distinct settlement_id, raw_sha256 from {{ candidates }}
        except
        select settlement_id, raw_sha256 from stored
    )
    where settlement_id is not null
)

select '{{ invocation_id }}', '{{ this.identifier }}', 'ran', null
union all
select '{{ invocation_id }}', '{{ this.identifier }}', 'key', settlement_id from changed
union all
-- A changed settlement the model already held (another version): a re-issue, whose older rows it deletes.
select '{{ invocation_id }}', '{{ this.identifier }}', 'reissued', settlement_id
from changed semi join stored using (settlement_id)
{%- endif -%}
{%- endmacro %}

{#-
  Runs `record` (an insert into `acorn_build_changes` that records this model's 'ran' row) unless this invocation
  has recorded this model already: a model that records its changes while its SQL is compiled, and again from a
  pre-hook (which also covers a run whose compiled SQL was cached), records them once.
-#}
{% macro record_once_in_this_build(record) -%}
{%- set recorded -%}
select count(*) from {{ build_changes_relation() }}
where invocation_id = '{{ invocation_id }}' and model = '{{ this.identifier }}' and kind = 'ran'
{%- endset -%}
{%- if run_query(recorded).columns[0].values()[0] == 0 -%}
{%- do run_query(record) -%}
{%- endif -%}
{%- endmacro %}

{#- The keys `model` recorded in this invocation (a list; none when it recorded nothing). -#}
{% macro keys_changed_in_this_build(model) -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- set query -%}
select key from {{ build_changes_relation() }}
where invocation_id = '{{ invocation_id }}' and model = '{{ model }}' and kind = 'key' and key is not null
order by key
{%- endset -%}
{{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#-
  What a scoped test over `models` (their names) checks: none (the whole table) when none of `models` ran in this
  invocation or one was built whole; else a dict: `keys`, the keys still recorded for them (this build's and any
  earlier build's whose tests have not all passed yet), and `null_keys`, whether the null key is among them.
-#}
{% macro changed_keys_state(models) -%}
{%- if not execute or not keeps_build_changes() -%}{{ return(none) }}{%- endif -%}
{%- set log = build_changes_relation() -%}
{%- if not relation_exists(log) -%}
{{ return(none) }}
{%- endif -%}
{%- set names -%}({% for m in models %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %}){%- endset -%}
{%- set query -%}
select
    count(*) filter (where invocation_id = '{{ invocation_id }}') as ran_here,
    count(*) filter (where kind = 'all') as built_whole,
    count(*) filter (where kind = 'key' and key is null) as null_keys
from {{ log }}
where model in {{ names }}
{%- endset -%}
{%- set row = run_query(query).rows[0] -%}
{%- if row[0] == 0 or row[1] > 0 -%}{{ return(none) }}{%- endif -%}
{%- set keys_query -%}
select distinct key from {{ log }} where model in {{ names }} and kind = 'key' and key is not null order by key
{%- endset -%}
{{ return({'keys': run_query(keys_query).columns[0].values() | list, 'null_keys': row[2] > 0}) }}
{%- endmacro %}

{#-
  A boolean SQL expression over `column` keeping the rows a build changed in `models` (their names), for a data
  test's `where`: `true` (the whole table) when none of `models` ran in this invocation or one was built whole;
  else `column` in the keys still recorded for them (changed_keys_state). `key_type`: the column's type, for the
  literals (so that DuckDB skips row groups by their min/max).
-#}
{% macro changed_rows_filter(models, column, key_type='varchar') -%}
{%- set state = changed_keys_state(models) -%}
{%- if state is none -%}{{ return('true') }}{%- endif -%}
{%- set parts = [] -%}
{%- if state['keys'] | length > 0 -%}
{%- set literals = [] -%}
{%- for key in state['keys'] -%}{%- do literals.append('cast(' ~ sql_literal(key) ~ ' as ' ~ key_type ~ ')') -%}{%- endfor -%}
{%- do parts.append(column ~ ' in (' ~ (literals | join(', ')) ~ ')') -%}
{%- endif -%}
{%- if state['null_keys'] -%}{%- do parts.append(column ~ ' is null') -%}{%- endif -%}
{{ return('(' ~ (parts | join(' or ') if parts else 'false') ~ ')') }}
{%- endmacro %}

{#- `column like '<prefix>%'`: DuckDB skips row groups by their min/max for a prefix `like` (not for
    `starts_with`, a function of the column, or a `like ... escape`); a prefix holding `%`, `_` or `\` is escaped
    (correct, not skipped). -#}
{% macro prefix_like(column, prefix) -%}
{%- set prefix = prefix | string -%}
{%- if '%' in prefix or '_' in prefix or '\\' in prefix -%}
{{ column }} like {{ sql_literal(prefix | replace('\\', '\\\\') | replace('%', '\\%') | replace('_', '\\_') ~ '%') }} escape '\'
{%- else -%}
{{ column }} like {{ sql_literal(prefix ~ '%') }}
{%- endif -%}
{%- endmacro %}

{#-
  on-run-end: forget the keys of every model whose scoped tests (those that read its record: a generic test
  naming it in `changed_in` or in an `acorn_changed_rows:` where, a singular test naming it in
  `changed_rows_filter`) all passed in this invocation.
  A model with a scoped test that did not run (a subset run) or did not pass keeps its keys, so later builds
  check them again until it passes.
-#}
{% macro settle_build_changes(results) -%}
{%- if not execute or not keeps_build_changes() -%}{{ return('') }}{%- endif -%}
{%- set log = build_changes_relation() -%}
{%- if not relation_exists(log) -%}
{{ return('') }}
{%- endif -%}
{%- set recorded = run_query('select distinct model from ' ~ log).columns[0].values() | list -%}
{%- set passed = [] -%}
{%- for result in results -%}
{%- if result.node.resource_type == 'test' and result.status == 'pass' -%}{%- do passed.append(result.node.unique_id) -%}{%- endif -%}
{%- endfor -%}
{%- set settled = [] -%}
{%- for name in recorded -%}
{%- set ns = namespace(all_passed=true) -%}
{%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
{%- set kwargs = (node.test_metadata or {}).get('kwargs', {}) if node.test_metadata is defined else {} -%}
{%- set where = (node.config or {}).get('where') or '' -%}
{%- set reads = name in (kwargs.get('changed_in') or [])
    or ('changed_rows_filter' in (node.raw_code or '') and ("'" ~ name ~ "'") in (node.raw_code or ''))
    or (where.startswith('acorn_changed_rows:') and name in where.split(':')[1].split(',')) -%}
{%- if reads and node.unique_id not in passed -%}{%- set ns.all_passed = false -%}{%- endif -%}
{%- endfor -%}
{%- if ns.all_passed -%}{%- do settled.append(name) -%}{%- endif -%}
{%- endfor -%}
{%- if settled | length > 0 -%}
delete from {{ log }} where model in ({% for name in settled %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- else -%}
select 1
{%- endif -%}
{%- endmacro %}

{#- Pre-hook: on a full build (first build or full refresh), record that every row of the model is new. -#}
{% macro log_built_whole() -%}
{%- if not is_incremental() -%}
insert into {{ build_changes_relation() }} (invocation_id, model, kind, key)
values ('{{ invocation_id }}', '{{ this.identifier }}', 'all', null)
{%- endif -%}
{%- endmacro %}

{#-
  dbt's generic tests (not_null, accepted_values, ...) read their model through `get_where_subquery`, which
  applies the test's `where` config. A `where` of `acorn_changed_rows:<model>[,<model>...]:<column>` scopes the
  test to the rows a build changed: `changed_rows_filter([models], column)`, so the test reads the keys those
  models rewrote in this build (or the whole table, as `changed_rows_filter` says when). Only for tests of a row on
  its own (a row passes or fails whatever the other rows are): the rows of other keys are as the build that
  wrote them left them, and that build's run of the test checked them. `settle_build_changes` counts such a test
  as reading the models it names. Any other `where` is dbt's.
-#}
{% macro get_where_subquery(relation) -%}
{%- set where = config.get('where', '') or '' -%}
{%- if where.startswith('acorn_changed_rows:') -%}
{%- set parts = where.split(':') -%}
{%- set filter = changed_rows_filter(parts[1].split(','), parts[2]) -%}
{%- do return('(select * from ' ~ relation ~ ' where ' ~ filter ~ ') dbt_subquery') -%}
{%- endif -%}
{%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}
