-- The fee_taxonomy seed's rows for the API sources: `transaction` (amount_type = a breakdown path prefix such as
-- Expenses/AmazonFees, amount_description = the leaf breakdownType) and `financial_event` (amount_type = the
-- component kind such as fee, amount_description = the component type such as Commission). An empty
-- amount_type matches any; when several rows match, the longest amount_type (the most specific) wins.
with taxonomy as (
    select
        source,
        nullif(trim(amount_type), '') as amount_type,
        amount_description,
        fee_category
    from {{ ref('fee_taxonomy') }}
    where source in ('transaction', 'financial_event')
)

select * from taxonomy
