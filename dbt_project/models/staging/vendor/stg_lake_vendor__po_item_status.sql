with source as (
    select * from {{ source('lake_vendor', 'vendor_po_item_status') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(purchase_order_number as varchar) as purchase_order_number,
        cast(purchase_order_status as varchar) as purchase_order_status,
        cast(purchase_order_at as timestamptz) as purchase_order_at,
        cast(last_updated_at as timestamptz) as last_updated_at,
        cast(selling_party_id as varchar) as selling_party_id,
        cast(selling_country as varchar) as selling_country,
        cast(ship_to_party_id as varchar) as ship_to_party_id,
        cast(ship_to_country as varchar) as ship_to_country,
        cast(item_sequence_number as varchar) as item_sequence_number,
        cast(buyer_product_identifier as varchar) as buyer_product_identifier,
        cast(vendor_product_identifier as varchar) as vendor_product_identifier,
        cast(net_cost as decimal(18, 4)) as net_cost,
        cast(net_cost_currency as varchar) as net_cost_currency,
        cast(net_cost_unit_of_measure as varchar) as net_cost_unit_of_measure,
        cast(list_price as decimal(18, 4)) as list_price,
        cast(list_price_currency as varchar) as list_price_currency,
        cast(list_price_unit_of_measure as varchar) as list_price_unit_of_measure,
        cast(ordered_quantity as bigint) as ordered_quantity,
        cast(ordered_quantity_unit as varchar) as ordered_quantity_unit,
        cast(ordered_quantity_unit_size as bigint) as ordered_quantity_unit_size,
        cast(ordered_quantity_eaches as bigint) as ordered_quantity_eaches,
        cast(ordered_quantity_updated_at as timestamptz) as ordered_quantity_updated_at,
        cast(confirmation_status as varchar) as confirmation_status,
        cast(accepted_quantity as bigint) as accepted_quantity,
        cast(accepted_quantity_unit as varchar) as accepted_quantity_unit,
        cast(accepted_quantity_unit_size as bigint) as accepted_quantity_unit_size,
        cast(accepted_quantity_eaches as bigint) as accepted_quantity_eaches,
        cast(rejected_quantity as bigint) as rejected_quantity,
        cast(rejected_quantity_unit as varchar) as rejected_quantity_unit,
        cast(rejected_quantity_unit_size as bigint) as rejected_quantity_unit_size,
        cast(rejected_quantity_eaches as bigint) as rejected_quantity_eaches,
        cast(acknowledged_at as timestamptz) as acknowledged_at,
        cast(receive_status as varchar) as receive_status,
        cast(received_quantity as bigint) as received_quantity,
        cast(received_quantity_unit as varchar) as received_quantity_unit,
        cast(received_quantity_unit_size as bigint) as received_quantity_unit_size,
        cast(received_quantity_eaches as bigint) as received_quantity_eaches,
        cast(last_received_at as timestamptz) as last_received_at
    from source
)

select * from renamed
