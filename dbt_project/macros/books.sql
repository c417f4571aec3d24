{#-
  The books' posting rules (seeds/posting_rules.csv), matched once per distinct key rather than per line.
  `keys` is a relation with match_key and the columns a rule may match on: transaction_type, amount_type,
  amount_description, taxonomy_category (the fee_taxonomy's category of the line, so the rules reuse the one
  classification of a line), marketplace_name, fulfilment_channel and sku_group. An empty rule column matches
  anything. Of the rules that match, the most specific wins: a rule naming the amount description beats one
  naming the taxonomy category, which beats the amount type, then the transaction type, the marketplace, the
  fulfilment channel and the SKU group (weights 64, 32, 16, 8, 4, 2, 1); equal ones go to the lowest rule_id.
  A key no rule matches is left out: the models list it in rpt_books_unmapped.
-#}
{% macro best_posting_rules(keys, source) -%}
select * exclude (preference)
from (
    select
        {{ keys }}.match_key,
        rules.rule_id,
        rules.category,
        rules.account_key,
        rules.tax_key,
        rules.description as rule_description,
        rules.rule_version,
        row_number() over (
            partition by {{ keys }}.match_key
            order by
                (case when rules.amount_description is not null then 64 else 0 end)
                + (case when rules.fee_category is not null then 32 else 0 end)
                + (case when rules.amount_type is not null then 16 else 0 end)
                + (case when rules.transaction_type is not null then 8 else 0 end)
                + (case when rules.marketplace is not null then 4 else 0 end)
                + (case when rules.fulfilment_channel is not null then 2 else 0 end)
                + (case when rules.sku_group is not null then 1 else 0 end) desc,
                rules.rule_id
        ) as preference
    from {{ keys }}
    inner join {{ ref('int_books_posting_rules') }} as rules
        on (rules.source is null or rules.source = '{{ source }}')
        and (rules.transaction_type is null or rules.transaction_type = {{ keys }}.transaction_type)
        and (rules.amount_type is null or rules.amount_type = {{ keys }}.amount_type)
        and (rules.amount_description is null or rules.amount_description = {{ keys }}.amount_description)
        and (rules.fee_category is null or rules.fee_category = {{ keys }}.taxonomy_category)
        and (rules.marketplace is null or lower(rules.marketplace) = lower({{ keys }}.marketplace_name))
        and (rules.fulfilment_channel is null or rules.fulfilment_channel = {{ keys }}.fulfilment_channel)
        and (rules.sku_group is null or rules.sku_group = {{ keys }}.sku_group)
)
where preference = 1
{%- endmacro %}

{#- The reporting time zone of an account's marketplace: the account's own (var books_reporting_time_zones), else
    the marketplace's, else UTC. -#}
{% macro books_time_zone(account_id, marketplace_time_zone) -%}
{%- set zones = var('books_reporting_time_zones', {}) -%}
coalesce(
    {%- if zones %}
    case {{ account_id }}
        {%- for account, zone in zones.items() %}
        when '{{ account }}' then '{{ zone }}'
        {%- endfor %}
    end,
    {%- endif %}
    {{ marketplace_time_zone }},
    'UTC'
)
{%- endmacro %}

{#- The journal line a mapped (or unmapped) amount lands on: category, account_key, tax_key, description.
    `{bank}` / `{card}` in a rule's account_key stand for the marketplace's bank / card account; with var
    books_post_sales_tax false, sales tax and marketplace facilitator tax share one netted line. -#}
{% macro books_posting_label(matched, line) -%}
case
    when {{ matched }}.rule_id is null then 'unmapped'
    {%- if not var('books_post_sales_tax', true) %}
    when {{ matched }}.category in ('sales_tax', 'marketplace_facilitator_tax') then 'sales_tax'
    {%- endif %}
    else {{ matched }}.category
end as category,
case
    when {{ matched }}.rule_id is null then 'amazon_suspense'
    when {{ matched }}.account_key = '{bank}' then {{ line }}.bank_account_key
    when {{ matched }}.account_key = '{card}' then {{ line }}.card_account_key
    else {{ matched }}.account_key
end as account_key,
case when {{ matched }}.rule_id is null then 'no_tax' else {{ matched }}.tax_key end as tax_key,
case
    when {{ matched }}.rule_id is null
        then 'Not mapped by any posting rule: '
            || coalesce({{ line }}.transaction_type, '-') || ' / '
            || coalesce({{ line }}.amount_type, '-') || ' / '
            || coalesce({{ line }}.amount_description, '-')
    {%- if not var('books_post_sales_tax', true) %}
    when {{ matched }}.category in ('sales_tax', 'marketplace_facilitator_tax')
        then 'Sales tax collected and remitted by Amazon (not posted: net)'
    {%- endif %}
    else {{ matched }}.rule_description
end as description
{%- endmacro %}

{#- First pre-hook of fct_journal_line_sources: record what the build rewrites (macros/build_changes.sql): the
    settlements posted again, by id, and the transactions' rows (all of them, recorded as the null key: the
    scoped test's key is null for them); on a full build, that every row is new. -#}
{% macro books_log_reposted_sources() -%}
{%- if is_incremental() -%}
insert into {{ build_changes_relation() }} (invocation_id, model, kind, key)
select '{{ invocation_id }}', '{{ this.identifier }}', 'ran', null
union all
select '{{ invocation_id }}', '{{ this.identifier }}', 'key', null
union all
select distinct '{{ invocation_id }}', '{{ this.identifier }}', 'key', settlement_id
from (
    select settlement_id from {{ ref('int_books_settlement_lines_posted') }}
    where posted_in_run = '{{ invocation_id }}'
    union
    -- the settlements it posted again without lines (books_settlements_to_post recorded them)
    select key from {{ build_changes_relation() }}
    where invocation_id = '{{ invocation_id }}' and model = 'int_books_settlement_lines_posted' and kind = 'key'
)
where settlement_id is not null
{%- else -%}
{{ log_built_whole() }}
{%- endif -%}
{%- endmacro %}

{#- Pre-hook of fct_journal_line_sources (incremental): before a build appends the lineage of the settlements it
    posted again and of all deferred money, delete what those had. The settlements are the keys its first pre-hook
    recorded, as literals; a settlement's rows are found by their source_key's prefix (`settlement_id:`), which
    DuckDB answers from row groups' min/max, rather than by splitting every source_key of the history. -#}
{% macro books_delete_reposted_sources() -%}
{%- if is_incremental() -%}
{%- set ids = keys_changed_in_this_build(this.identifier) or [] -%}
delete from {{ this }}
where source_kind = 'transaction'
{%- for id in ids %};
delete from {{ this }}
where {{ prefix_like('source_key', id) }} and split_part(source_key, ':', 1) = {{ sql_literal(id) }}
{%- endfor %}
{%- endif -%}
{%- endmacro %}


{#- The posting fingerprint of int_books_settlement_lines_posted: a digest of everything posting reads besides the
    lines (the rules, the fee taxonomy, the marketplaces, their time zones, the SKU groups and the books' vars), as
    a one-row select of `posting_fingerprint`. -#}
{% macro books_posting_fingerprint() -%}
select md5(concat_ws(
        chr(29),
        (select string_agg(concat_ws(chr(31), rule_id, source, transaction_type, amount_type, amount_description,
                fee_category, marketplace, fulfilment_channel, sku_group, category, account_key, tax_key,
                description, rule_version), chr(30) order by rule_id)
            from {{ ref('int_books_posting_rules') }}),
        (select string_agg(concat_ws(chr(31), source, amount_type, amount_description, fee_category), chr(30)
                order by source, amount_type, amount_description)
            from {{ ref('fee_taxonomy') }}),
        (select string_agg(concat_ws(chr(31), marketplace_id, marketplace_name, country_code, default_currency,
                time_zone), chr(30) order by marketplace_id)
            from {{ ref('int_books_marketplaces') }}),
        (select string_agg(concat_ws(chr(31), account_id, sku, sku_group), chr(30) order by account_id, sku)
            from {{ ref('posting_rules_sku_groups') }}),
        '{{ tojson(var("books_reporting_time_zones", {})) }}',
        '{{ var("books_post_sales_tax", true) }}'
    )) as posting_fingerprint
{%- endmacro %}

{#- On an incremental build of int_books_settlement_lines_posted, the ids of the settlements to post (again): those
    without a posted line of the same document (raw_sha256), account and posting fingerprint (so every settlement
    without lines, each build). Every such settlement is a row of int_books_settlements, which has one row per
    staged settlement with the same id, raw_sha256 and account (coalesced to 'unassigned'), read here from the
    staged settlements, one row each, so that finding them reads neither the lines nor their marketplaces.
    In a build (macros/build_changes.sql) the comparison runs once, when the model's SQL is compiled, and is
    recorded in acorn_build_changes (model int_books_settlement_lines_posted, kind 'key'), so that its pre-hook
    (which deletes them first: a re-issue without lines has no new row for delete+insert to replace its old ones
    by) and fct_journal_line_sources read the same list after the table changed. -#}
{#- What decides, beside a settlement's document (raw_sha256), whether it is posted again: kept with it by the
    posted lines' post-hook and compared by books_settlements_to_post. -#}
{% macro books_posting_version_columns() -%}
{{ return(['account_id', 'posting_fingerprint']) }}
{%- endmacro %}

{% macro books_settlements_to_post() -%}
{%- set query -%}
with fingerprint as (
    {{ books_posting_fingerprint() }}
),

staged as (
    select settlement_id, raw_sha256, coalesce(account_id, 'unassigned') as account_id
    from {{ ref('stg_lake_settlements__settlements') }}
),

-- What the model holds: its distinct (settlement_id, raw_sha256, account_id, posting_fingerprint), kept beside it
-- (macros/changed_settlements.sql), so that the comparison reads one row per settlement, not every posted line.
done as (
    {{ stored_settlement_versions(books_posting_version_columns()) }}
)

select staged.settlement_id
from staged
anti join done
    on staged.settlement_id = done.settlement_id
    and staged.raw_sha256 is not distinct from done.raw_sha256
    and staged.account_id = done.account_id
    and done.posting_fingerprint = (select posting_fingerprint from fingerprint)
where staged.settlement_id is not null
order by staged.settlement_id
{%- endset -%}
{%- if not keeps_build_changes() -%}
{{ return(run_query(query).columns[0].values() | list) }}
{%- endif -%}
{%- set recorded -%}
select count(*) from {{ build_changes_relation() }}
where invocation_id = '{{ invocation_id }}' and model = '{{ this.identifier }}' and kind = 'ran'
{%- endset -%}
{%- if run_query(recorded).columns[0].values()[0] == 0 -%}
{%- set record -%}
insert into {{ build_changes_relation() }} (invocation_id, model, kind, key)
select '{{ invocation_id }}', '{{ this.identifier }}', 'ran', null
union all
select '{{ invocation_id }}', '{{ this.identifier }}', 'key', settlement_id from ({{ query }})
{%- endset -%}
{%- do run_query(record) -%}
{%- endif -%}
{{ return(keys_changed_in_this_build(this.identifier)) }}
{%- endmacro %}

{#- The settlements int_books_settlement_lines_posted posts in this build: a list, or none when it posts every
    settlement (a full build, or a table built before posting_fingerprint existed). -#}
{% macro books_settlements_posting() -%}
{%- if not is_incremental() -%}{{ return(none) }}{%- endif -%}
{%- set done_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
{{ return(books_settlements_to_post() if 'posting_fingerprint' in done_columns else none) }}
{%- endmacro %}

{#- Pre-hook of int_books_settlement_lines_posted: delete the posted lines of the settlements it posts again
    (all of them when it posts every settlement), so that a re-issue without lines leaves none of its earlier
    version's (delete+insert alone deletes only the settlements the new rows name). -#}
{% macro books_delete_settlements_to_post() -%}
{%- if is_incremental() -%}
{%- set to_post = books_settlements_posting() -%}
delete from {{ this }}{% if to_post is not none %} where {{ settlement_id_in(to_post) }}{% endif %}
{%- endif -%}
{%- endmacro %}

{#- On an incremental build of int_books_settlement_journal_lines, the ids of the settlements whose journals it
    computes again: those int_books_settlement_lines_posted posted in this invocation, and those without posted
    lines (their journal is their bank line alone). Two small queries over two columns of the posted lines
    (dictionary-compressed: about 0.03 CPU s at 7.9M lines), returned as a list for literal filters. -#}
{% macro books_journal_settlements() -%}
{%- if not execute -%}{{ return([]) }}{%- endif -%}
{%- set query -%}
select distinct settlement_id from {{ ref('int_books_settlement_lines_posted') }}
where posted_in_run = '{{ invocation_id }}' and settlement_id is not null
union
select settlement_id from {{ ref('int_books_settlements') }}
where settlement_id is not null
    and settlement_id not in (select distinct settlement_id from {{ ref('int_books_settlement_lines_posted') }}
        where settlement_id is not null)
order by settlement_id
{%- endset -%}
{{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}
