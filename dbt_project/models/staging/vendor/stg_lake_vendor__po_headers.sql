with source as (
    select * from {{ source('lake_vendor', 'vendor_po_headers') }}
),

renamed as (
    select
        cast(account_id as varchar) as account_id,
        cast(purchase_order_number as varchar) as purchase_order_number,
        cast(purchase_order_state as varchar) as purchase_order_state,
        cast(purchase_order_type as varchar) as purchase_order_type,
        cast(purchase_order_at as timestamptz) as purchase_order_at,
        cast(changed_at as timestamptz) as changed_at,
        cast(state_changed_at as timestamptz) as state_changed_at,
        cast(payment_method as varchar) as payment_method,
        cast(deal_code as varchar) as deal_code,
        cast(buying_party_id as varchar) as buying_party_id,
        cast(buying_country as varchar) as buying_country,
        cast(selling_party_id as varchar) as selling_party_id,
        cast(selling_country as varchar) as selling_country,
        cast(ship_to_party_id as varchar) as ship_to_party_id,
        cast(ship_to_country as varchar) as ship_to_country,
        cast(bill_to_party_id as varchar) as bill_to_party_id,
        cast(bill_to_country as varchar) as bill_to_country,
        cast(ship_window_start_at as timestamptz) as ship_window_start_at,
        cast(ship_window_end_at as timestamptz) as ship_window_end_at,
        cast(delivery_window_start_at as timestamptz) as delivery_window_start_at,
        cast(delivery_window_end_at as timestamptz) as delivery_window_end_at,
        cast(import_method_of_payment as varchar) as import_method_of_payment,
        cast(international_commercial_terms as varchar) as international_commercial_terms,
        cast(port_of_delivery as varchar) as port_of_delivery,
        cast(item_count as integer) as item_count
    from source
)

select * from renamed
