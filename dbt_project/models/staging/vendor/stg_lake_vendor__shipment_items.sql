select
    cast(account_id as varchar) as account_id,
    cast(vendor_shipment_identifier as varchar) as vendor_shipment_identifier,
    cast(transaction_type as varchar) as transaction_type,
    cast(current_shipment_status as varchar) as current_shipment_status,
    cast(shipment_created_at as timestamptz) as shipment_created_at,
    cast(shipped_at as timestamptz) as shipped_at,
    cast(estimated_delivery_at as timestamptz) as estimated_delivery_at,
    cast(ship_to_party_id as varchar) as ship_to_party_id,
    cast(purchase_order_number as varchar) as purchase_order_number,
    cast(item_sequence_number as varchar) as item_sequence_number,
    cast(buyer_product_identifier as varchar) as buyer_product_identifier,
    cast(vendor_product_identifier as varchar) as vendor_product_identifier,
    cast(shipped_quantity_eaches as bigint) as shipped_quantity
from {{ source('lake_vendor', 'vendor_shipment_items') }}
where coalesce(transaction_type, 'New') <> 'Cancel'
