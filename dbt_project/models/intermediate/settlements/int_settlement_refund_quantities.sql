-- The units each refund gave back, one rule for every mart (fct_sku_daily.units_refunded, fct_refunds.quantity):
-- `refund_quantity_rule` (macros/refund_quantities.sql), over every refund line. Settlement reports give no
-- quantity on refund lines: a refund of an order's SKU takes the quantity Amazon's Finances refund transaction
-- states for that order and SKU, else the quantity the order bought of it (its Principal lines in the reports
-- ACORN holds). The quantity sits on the refund's ItemPrice/Principal line only, so summing it counts each
-- refunded unit once. fct_sku_daily's incremental insert applies the same rule to its rewritten days' refunds.
{{ refund_quantity_rule(ref('fct_settlement_lines'), ref('fct_transactions')) }}
