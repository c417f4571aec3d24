with source as (
    select * from {{ source('lake_vendor', 'vendor_po_items') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(purchase_order_number as varchar) as purchase_order_number,
        cast(changed_at as timestamptz) as changed_at,
        cast(item_sequence_number as varchar) as item_sequence_number,
        cast(amazon_product_identifier as varchar) as amazon_product_identifier,
        cast(vendor_product_identifier as varchar) as vendor_product_identifier,
        cast(is_back_order_allowed as boolean) as is_back_order_allowed,
        cast(ordered_quantity as bigint) as ordered_quantity,
        cast(ordered_quantity_unit as varchar) as ordered_quantity_unit,
        cast(ordered_quantity_unit_size as bigint) as ordered_quantity_unit_size,
        cast(ordered_quantity_eaches as bigint) as ordered_quantity_eaches,
        cast(net_cost as decimal(18, 4)) as net_cost,
        cast(net_cost_currency as varchar) as net_cost_currency,
        cast(net_cost_unit_of_measure as varchar) as net_cost_unit_of_measure,
        cast(list_price as decimal(18, 4)) as list_price,
        cast(list_price_currency as varchar) as list_price_currency,
        cast(list_price_unit_of_measure as varchar) as list_price_unit_of_measure
    from source
)

select * from renamed
