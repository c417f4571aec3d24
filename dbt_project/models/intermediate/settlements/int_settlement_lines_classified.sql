-- Applies the line rules once, so that every mart classifies a line the same way:
-- fee line = amount_type ItemFees / Shipment-Fees (older layout: the *-fee-amount columns map to the same types)
-- or transaction_type ServiceFee; refund line = transaction_type Refund. The taxonomy's category of any line
-- (fee or not: a reserve transfer, a coupon fee) is kept as taxonomy_category: the posting rules of the books
-- (seeds/posting_rules.csv) key on it, so that a line is classified once.
with lines as (
    select * from {{ ref('stg_lake_settlements__settlement_lines') }}
),

settlements as (
    select settlement_id, account_id from {{ ref('stg_lake_settlements__settlements') }}
),

taxonomy as (
    select amount_type, amount_description, fee_category
    from {{ ref('fee_taxonomy') }}
    where source = 'settlement'
),

classified as (
    select
        lines.*,
        coalesce(lines.account_id, settlements.account_id) as resolved_account_id,
        coalesce(lines.posted_at, cast(lines.posted_date as timestamptz)) as resolved_posted_at,
        (
            lines.amount_type in ('ItemFees', 'Shipment-Fees', 'ShipmentFees')
            or lines.transaction_type = 'ServiceFee'
        ) as is_fee,
        lines.transaction_type = 'Refund' as is_refund,
        lines.posted_at is not null as has_posted_time,
        taxonomy.fee_category as mapped_fee_category
    from lines
    left join settlements on lines.settlement_id = settlements.settlement_id
    left join taxonomy
        on lines.amount_type = taxonomy.amount_type
        and lines.amount_description = taxonomy.amount_description
),

final as (
    select
        * exclude (account_id, posted_at, mapped_fee_category, resolved_account_id, resolved_posted_at),
        mapped_fee_category as taxonomy_category,
        resolved_account_id as account_id,
        resolved_posted_at as posted_at,
        case when is_fee then coalesce(mapped_fee_category, 'other') end as fee_category,
        -- False for a fee line whose amount-type/description the seed does not know (check
        -- unknown_fee_descriptions lists them); null for lines that are not fees.
        case when is_fee then mapped_fee_category is not null end as is_fee_type_known
    from classified
)

select * from final
