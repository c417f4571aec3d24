with leaves as (
    select * from {{ ref('stg_lake_finance__transactions') }}
),

totals as (
    select account_id, transaction_id, total_amount, breakdowns_agree
    from {{ ref('stg_lake_finance__transaction_totals') }}
),

-- The fee_taxonomy seed's `transaction` rows. An empty amount_type matches any; when several rows match, the
-- longest amount_type (the most specific) wins.
taxonomy as (
    select
        nullif(trim(amount_type), '') as amount_type,
        amount_description,
        fee_category
    from {{ ref('fee_taxonomy') }}
    where source = 'transaction'
),

categorised as (
    select
        leaves.account_id,
        leaves.transaction_id,
        leaves.leaf_index,
        taxonomy.fee_category,
        row_number() over (
            partition by leaves.account_id, leaves.transaction_id, leaves.leaf_index
            order by length(coalesce(taxonomy.amount_type, '')) desc, taxonomy.fee_category
        ) as preference
    from leaves
    inner join taxonomy
        on leaves.breakdown_type = taxonomy.amount_description
        and (
            taxonomy.amount_type is null
            or leaves.breakdown_path = taxonomy.amount_type
            or starts_with(leaves.breakdown_path, taxonomy.amount_type || '/')
        )
),

final as (
    select
        leaves.account_id,
        leaves.transaction_id,
        cast(leaves.leaf_index as integer) as leaf_index,
        leaves.transaction_type,
        leaves.transaction_status,
        leaves.description,
        leaves.posted_at,
        leaves.marketplace_id,
        leaves.marketplace_name,
        leaves.order_id,
        leaves.shipment_id,
        leaves.settlement_id,
        leaves.financial_event_group_id,
        leaves.refund_id,
        leaves.invoice_id,
        leaves.deferred_transaction_id,
        leaves.release_transaction_id,
        leaves.maturity_at,
        leaves.deferral_reason,
        leaves.breakdown_level,
        leaves.item_index,
        leaves.sku,
        leaves.asin,
        leaves.quantity,
        leaves.breakdown_path,
        leaves.amount_key,
        leaves.breakdown_type,
        leaves.amount_source,
        leaves.counts_toward_total,
        leaves.amount,
        leaves.currency,
        categorised.fee_category,
        totals.total_amount as transaction_total_amount,
        coalesce(totals.breakdowns_agree, false) as breakdowns_agree,
        leaves.transaction_id_is_derived
    from leaves
    left join categorised
        on leaves.account_id = categorised.account_id
        and leaves.transaction_id = categorised.transaction_id
        and leaves.leaf_index = categorised.leaf_index
        and categorised.preference = 1
    left join totals
        on leaves.account_id = totals.account_id
        and leaves.transaction_id = totals.transaction_id
)

select * from final
