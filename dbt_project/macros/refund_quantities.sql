{#-
  The refund rule (int_settlement_refund_quantities), as SQL over `settlement_lines` (fct_settlement_lines) and
  `transactions` (fct_transactions). With `keys` (a query of (account_id, order_id, sku)), only the refund lines
  of those keys, and only those keys' order lines and Finances refunds are read and summed: each refund line's
  quantity is a function of its own line and of its key's order lines and refund transactions, so the rule over
  a key's refund lines gives them exactly what the rule over every line gives them. `refund_lines_join` (a
  `semi join ... on ...` of the refund lines, e.g. to a caller's days) and `refund_lines_where` (a condition on
  the refund lines' columns, e.g. their days or settlements as literals, which DuckDB pushes into the scan and
  checks against each row group's min/max) likewise keep some refund lines, and their keys' order lines and
  refunds: the rule gives those refund lines what it gives them over every line.
  A refund line that states its own quantity takes it (the coalesce below): only the keys of refund lines
  without one are looked up in the orders and the Finances refunds, so refunds that state their units cost no
  read of the history's orders.
  `not materialized`: DuckDB would otherwise materialize a CTE read twice, whole, before a caller's filter (a
  build's new settlements) could narrow it.
-#}
{% macro refund_quantity_rule(settlement_lines, transactions, keys=none, refund_lines_join=none, refund_lines_where=none) -%}
with settlement_lines as not materialized (
    select * from {{ settlement_lines }}
),

{%- if keys is not none %}

rule_keys as (
    {{ keys }}
),
{%- endif %}

refund_lines as not materialized (
    select * from settlement_lines
    {%- if keys is not none %}
    semi join rule_keys using (account_id, order_id, sku)
    {%- endif %}
    {%- if refund_lines_join is not none %}
    {{ refund_lines_join }}
    {%- endif %}
    where transaction_type = 'Refund' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        and sku is not null
        {%- if refund_lines_where is not none %}
        and ({{ refund_lines_where }})
        {%- endif %}
),

-- The keys whose units the rule looks up: those of refund lines that do not state their own quantity.
looked_up as not materialized (
    select distinct account_id, order_id, sku from refund_lines where quantity is null
),

-- Only the orders refunded: a filter on the refunds (a build's new settlements) then narrows the sum too.
order_quantities as (
    select account_id, order_id, sku, sum(quantity) as quantity
    from settlement_lines
    semi join looked_up as refunded using (account_id, order_id, sku)
    where transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
        and order_id is not null and quantity is not null
    group by all
),

refund_transaction_quantities as (
    select account_id, order_id, sku, max(quantity) as quantity
    from {{ transactions }}
    {%- if keys is not none or refund_lines_join is not none or refund_lines_where is not none %}
    semi join looked_up as refunded using (account_id, order_id, sku)
    {%- endif %}
    where transaction_type = 'Refund' and breakdown_type = 'ProductCharges' and quantity is not null
        and order_id is not null and sku is not null
    group by all
),

final as (
    select
        settlement_lines.settlement_id,
        settlement_lines.line_number,
        -- Where the refund lands in fct_sku_daily: its line's account, marketplace, currency, SKU and time.
        settlement_lines.account_id,
        settlement_lines.marketplace_name,
        settlement_lines.currency,
        settlement_lines.sku,
        settlement_lines.posted_at,
        cast(coalesce(
            settlement_lines.quantity, refund_transaction_quantities.quantity, order_quantities.quantity
        ) as integer) as refunded_quantity
    from refund_lines as settlement_lines
    left join order_quantities
        on order_quantities.account_id = settlement_lines.account_id
        and order_quantities.order_id = settlement_lines.order_id
        and order_quantities.sku = settlement_lines.sku
    left join refund_transaction_quantities
        on refund_transaction_quantities.account_id = settlement_lines.account_id
        and refund_transaction_quantities.order_id = settlement_lines.order_id
        and refund_transaction_quantities.sku = settlement_lines.sku
)

select * from final
{%- endmacro %}

{#-
  The refund rule's bounded path: in an incremental build, a stored refund line's quantity can change only when an
  order line of its (account_id, order_id, sku) arrives or goes (in a changed settlement), or when
  fct_transactions changes (a Finances refund). `refund_rule_changed_settlements(models)` returns the settlements
  fct_settlement_lines or one of `models` (the caller's model and what it sums) rewrote in this invocation, as a
  list, when every refund whose quantity can have changed since the caller last applied the rule has its key in
  one of them: fct_settlement_lines and each of `models` ran incrementally in this invocation (a record of
  `ran`, none of `all`), none of them recorded a re-issue (whose older lines, gone now, may have named keys the
  new version does not), and fct_transactions is not built in this invocation (a build runs it when the
  Finances lake changed: orchestration/warehouse/scope.py, whose selection always runs the rule's models with
  it; a warehouse is published only whole). A settlement fct_settlement_lines took in an earlier invocation
  that did not run the caller (a subset run) is still one the caller's own comparison rewrites now, so it is in
  the list. Else `none`: the caller applies the rule to every refund, as a full comparison. Its callers then
  need only the stored refunds of `refund_rule_keys(ids)`: the keys of those settlements' order lines.
-#}
{% macro refund_rule_changed_settlements(models=[]) -%}
{%- if not execute or not is_incremental() or not keeps_build_changes() -%}{{ return(none) }}{%- endif -%}
{%- if ('model.' ~ project_name ~ '.fct_transactions') in selected_resources -%}{{ return(none) }}{%- endif -%}
{%- set names = ['fct_settlement_lines'] + models -%}
{%- set query -%}
select model, kind, key from {{ build_changes_relation() }}
where invocation_id = '{{ invocation_id }}'
    and model in ({% for m in names %}'{{ m }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endset -%}
{%- set ns = namespace(ran=[], bounded=true) -%}
{%- set keys = {} -%}
{%- for row in run_query(query).rows -%}
{%- if row[1] == 'ran' -%}{%- do ns.ran.append(row[0]) -%}
{%- elif row[1] in ('all', 'reissued') -%}{%- set ns.bounded = false -%}
{%- elif row[1] == 'key' -%}{%- do keys.setdefault(row[0], []).append(row[2]) -%}
{%- endif -%}
{%- endfor -%}
{%- for name in names if name not in ns.ran -%}{%- set ns.bounded = false -%}{%- endfor -%}
{%- set ids = [] -%}
{%- for name in names -%}{%- for key in keys.get(name, []) if key not in ids -%}{%- do ids.append(key) -%}{%- endfor -%}{%- endfor -%}
{{ return(ids | sort if ns.bounded else none) }}
{%- endmacro %}

{#-
  The (account_id, order_id, sku) of the order lines of settlements `ids` that the rule sums (an order's
  ItemPrice/Principal line with a quantity): on the bounded path, the only keys whose stored refunds' units can
  change. A new settlement's other lines (its own refunds, fees) change no stored refund: its refunds are
  inserted with the rule applied, and the rule reads no other line.
-#}
{% macro refund_rule_keys(ids) -%}
select distinct account_id, order_id, sku from {{ model_relation('fct_settlement_lines') }}
where {{ settlement_id_in(ids) }}
    and transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description = 'Principal'
    and order_id is not null and sku is not null and quantity is not null
{%- endmacro %}

{#-
  A model's relation by name, for a hook of a model that reads it through int_settlement_refund_quantities (which
  refs fct_settlement_lines and fct_transactions): the dependency is declared there, so the build's scope and
  order already hold.
-#}
{% macro model_relation(name) -%}
{{ return(graph.nodes['model.' ~ project_name ~ '.' ~ name].relation_name) }}
{%- endmacro %}

{#-
  Post-hook of fct_refunds: a refund's units can become known after its settlement was built (the settlement
  holding the order, or Amazon's Finances refund transaction, arrives later), or change (a re-issue drops the
  order), so an incremental build, which inserts only new and re-issued settlements (with the rule applied),
  also rewrites the quantity of every stored refund line whose units the rule (int_settlement_refund_quantities)
  now gives differently. A full refresh computes them the same way, so both builds agree: a refund line the rule
  gives no units keeps its own quantity, which is then null too (the rule takes a line's own quantity first).
  Only the refunds' ItemPrice/Principal lines carry units; no other row is touched.
  On the bounded path (above), only the stored refunds of `refund_rule_keys(ids)` can change: their
  settlements are found in fct_refunds itself (one row per refund line, a fraction of the lines), probed with the
  keys of the new settlements' order lines (read from those settlements' own row groups). Usually there are
  none, and the hook runs no statement; when there are, the rule is applied to the refund lines of those keys
  in those settlements (named as literals, so DuckDB reads their row groups only) and to their keys' orders.
  Otherwise (`none`) the rule is applied to every stored refund.
-#}
{% macro update_refund_quantities(refund_quantities) -%}
{%- if is_incremental() -%}
{%- set ids = refund_rule_changed_settlements(['fct_refunds']) -%}
{%- if ids is none -%}
update {{ this }} as refunds
set quantity = cast(rule.refunded_quantity as integer)
from {{ refund_quantities }} as rule
where refunds.settlement_id = rule.settlement_id
    and refunds.line_number = rule.line_number
    and refunds.quantity is distinct from cast(rule.refunded_quantity as integer)
{%- else -%}
{#-
  The keys go into a temporary table first, so that DuckDB hashes them (one row per key of the new settlements'
  orders) and probes the stored refunds with them. Given the keys as a subquery, it estimated them above the
  stored refunds its filters keep and hashed every stored refund of the history instead: 0.4-0.8 s against
  0.1-0.3 s at H = 78 (docs/performance.md, round `h-dbtnodes`). The same rows either way.
-#}
{%- do run_query('create or replace temporary table acorn_refund_rule_keys as ' ~ refund_rule_keys(ids)) -%}
{%- set affected_query -%}
select distinct refunds.settlement_id from {{ this }} as refunds
semi join acorn_refund_rule_keys as rule_keys using (account_id, order_id, sku)
where refunds.transaction_type = 'Refund' and refunds.amount_type = 'ItemPrice'
    and refunds.amount_description = 'Principal' and refunds.sku is not null
    and not ({{ settlement_id_in(ids, 'refunds.settlement_id') }})
order by 1
{%- endset -%}
{%- set affected = run_query(affected_query).columns[0].values() | list -%}
{%- do run_query('drop table acorn_refund_rule_keys') -%}
{%- if affected | length > 0 -%}
update {{ this }} as refunds
set quantity = cast(rule.refunded_quantity as integer)
from (
    {{ refund_quantity_rule(model_relation('fct_settlement_lines'), model_relation('fct_transactions'),
                            keys=refund_rule_keys(ids), refund_lines_where=settlement_id_in(affected)) }}
) as rule
where refunds.settlement_id = rule.settlement_id
    and refunds.line_number = rule.line_number
    and refunds.quantity is distinct from cast(rule.refunded_quantity as integer)
{%- endif -%}
{%- endif -%}
{%- endif -%}
{%- endmacro %}
