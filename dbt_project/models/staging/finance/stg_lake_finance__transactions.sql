with source as (
    select * from {{ source('lake_finance', 'transactions') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(transaction_id as varchar) as transaction_id,
        cast(leaf_index as integer) as leaf_index,
        cast(transaction_id_is_derived as boolean) as transaction_id_is_derived,
        cast(transaction_type as varchar) as transaction_type,
        cast(transaction_status as varchar) as transaction_status,
        cast(description as varchar) as description,
        cast(posted_at as timestamptz) as posted_at,
        cast(selling_partner_id as varchar) as selling_partner_id,
        cast(account_type as varchar) as account_type,
        cast(marketplace_id as varchar) as marketplace_id,
        cast({{ canonical_marketplace_name("source.marketplace_name", "source.marketplace_id") }} as varchar) as marketplace_name,
        cast(order_id as varchar) as order_id,
        cast(shipment_id as varchar) as shipment_id,
        cast(financial_event_group_id as varchar) as financial_event_group_id,
        cast(settlement_id as varchar) as settlement_id,
        cast(refund_id as varchar) as refund_id,
        cast(invoice_id as varchar) as invoice_id,
        cast(disbursement_id as varchar) as disbursement_id,
        cast(transfer_id as varchar) as transfer_id,
        cast(deferred_transaction_id as varchar) as deferred_transaction_id,
        cast(release_transaction_id as varchar) as release_transaction_id,
        cast(related_identifiers_json as varchar) as related_identifiers_json,
        cast(maturity_at as timestamptz) as maturity_at,
        cast(deferral_reason as varchar) as deferral_reason,
        cast(breakdown_level as varchar) as breakdown_level,
        cast(item_index as integer) as item_index,
        cast(item_description as varchar) as item_description,
        cast(order_adjustment_item_id as varchar) as order_adjustment_item_id,
        cast(sku as varchar) as sku,
        cast(asin as varchar) as asin,
        cast(quantity as bigint) as quantity,
        cast(fulfillment_network as varchar) as fulfillment_network,
        cast(breakdown_path as varchar) as breakdown_path,
        cast(amount_key as varchar) as amount_key,
        cast(breakdown_type as varchar) as breakdown_type,
        cast(breakdown_depth as integer) as breakdown_depth,
        cast(amount_source as varchar) as amount_source,
        cast(counts_toward_total as boolean) as counts_toward_total,
        cast(amount as decimal(18, 2)) as amount,
        cast(currency as varchar) as currency,
        cast(source_sha256 as varchar) as source_sha256
    from source
)

select * from renamed
