-- One row per purchase order line: what Amazon ordered, what the vendor acknowledged (accepted), what Amazon
-- received, at what net cost, and what is still open. Quantities are in eaches (cases times their unit size).
-- Values are quantity x net cost when the net cost is per each (or states no unit); a cost per weight unit
-- (POUNDS, OUNCES, ...) cannot be valued from quantities, so its values stay null rather than invented.
with headers as (
    select * from {{ ref('stg_lake_vendor__po_headers') }}
),

items as (
    select * from {{ ref('stg_lake_vendor__po_items') }}
),

status as (
    select * from {{ ref('stg_lake_vendor__po_item_status') }}
),

joined as (
    select
        items.account_id,
        items.purchase_order_number,
        items.item_sequence_number,
        headers.purchase_order_state,
        headers.purchase_order_type,
        headers.purchase_order_at,
        headers.changed_at,
        headers.ship_window_start_at,
        headers.ship_window_end_at,
        headers.delivery_window_start_at,
        headers.delivery_window_end_at,
        headers.selling_party_id,
        headers.ship_to_party_id,
        items.amazon_product_identifier,
        items.vendor_product_identifier,
        items.ordered_quantity_eaches as ordered_quantity,
        status.confirmation_status,
        status.accepted_quantity_eaches as acknowledged_quantity,
        status.rejected_quantity_eaches as rejected_quantity,
        status.receive_status,
        status.received_quantity_eaches as received_quantity,
        status.last_received_at,
        items.net_cost,
        coalesce(items.net_cost_currency, items.list_price_currency) as currency,
        items.net_cost_unit_of_measure,
        items.list_price,
        coalesce(lower(items.net_cost_unit_of_measure), 'eaches') in ('eaches', 'each') as is_cost_per_each,
        -- Open: acknowledged (before acknowledgement: ordered) and not yet received; nothing on a Closed PO.
        case
            when headers.purchase_order_state = 'Closed' then 0
            else greatest(
                coalesce(status.accepted_quantity_eaches, items.ordered_quantity_eaches, 0)
                - coalesce(status.received_quantity_eaches, 0),
                0
            )
        end as open_quantity
    from items
    left join headers
        on items.account_id = headers.account_id
        and items.purchase_order_number = headers.purchase_order_number
    left join status
        on items.account_id = status.account_id
        and items.purchase_order_number = status.purchase_order_number
        and items.item_sequence_number = status.item_sequence_number
),

final as (
    select
        account_id,
        purchase_order_number,
        item_sequence_number,
        purchase_order_state,
        purchase_order_type,
        purchase_order_at,
        changed_at,
        ship_window_start_at,
        ship_window_end_at,
        delivery_window_start_at,
        delivery_window_end_at,
        selling_party_id,
        ship_to_party_id,
        amazon_product_identifier,
        vendor_product_identifier,
        ordered_quantity,
        confirmation_status,
        acknowledged_quantity,
        rejected_quantity,
        receive_status,
        received_quantity,
        last_received_at,
        cast(open_quantity as bigint) as open_quantity,
        net_cost,
        currency,
        net_cost_unit_of_measure,
        list_price,
        cast(case when is_cost_per_each then ordered_quantity * net_cost end as decimal(18, 2)) as ordered_value,
        cast(case when is_cost_per_each then received_quantity * net_cost end as decimal(18, 2)) as received_value,
        cast(case when is_cost_per_each then open_quantity * net_cost end as decimal(18, 2)) as open_value
    from joined
)

select * from final
