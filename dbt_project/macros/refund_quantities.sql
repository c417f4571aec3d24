{#-
  Post-hook of fct_refunds: a refund's units can become known after its settlement was built (the settlement
  holding the order, or Amazon's Finances refund transaction, arrives later), so an incremental build, which
  inserts only new and re-issued settlements, also rewrites the quantity of every stored refund line whose units
  the rule (int_settlement_refund_quantities) now gives differently. A full refresh computes them the same way,
  so both builds agree. Only the refunds' ItemPrice/Principal lines carry units; no other row is touched.
-#}
{% macro update_refund_quantities(refund_quantities) -%}
{%- if is_incremental() -%}
update {{ this }} as refunds
set quantity = cast(rule.refunded_quantity as integer)
from {{ refund_quantities }} as rule
where refunds.settlement_id = rule.settlement_id
    and refunds.line_number = rule.line_number
    and rule.refunded_quantity is not null
    and refunds.quantity is distinct from cast(rule.refunded_quantity as integer)
{%- endif -%}
{%- endmacro %}
