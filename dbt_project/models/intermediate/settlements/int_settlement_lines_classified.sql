-- Applies the line rules once, so that every mart classifies a line the same way. Each line gets exactly one
-- line_class, the first that applies (the classes partition a settlement: their sums add up to its total):
--   tax            the taxonomy's `tax` category (marketplace facilitator tax, tax on fees) and the tax Amazon
--                  collects or refunds on the item price (ItemPrice Tax/ShippingTax/GiftWrapTax...,
--                  ItemWithheldTax), whatever the transaction;
--   reserve        the taxonomy's `reserve` category (Current / Previous Reserve Amount);
--   reimbursement  what Amazon pays back for lost or damaged inventory or wrong fees (FBA Inventory
--                  Reimbursement, WAREHOUSE_LOST, Refund Reimbursal, ...): money to the seller, not a charge;
--   transfer       money moved between the seller's account and Amazon or the bank that is not a charge
--                  (Payable to Amazon, Successful charge, Micro Deposit, Failed Disbursement, Amazon Capital
--                  Services repayments);
--   fee            every charge Amazon takes: any other line the fee_taxonomy seed maps (whatever its amount
--                  type: ItemFees, Shipment-Fees, CouponRedemptionFee, other-transaction Storage Fee,
--                  RunLightningDealFee, LiquidationsFee, ...), on orders and on refunds alike (a commission
--                  Amazon returns on a refund is a negative fee), and an unmapped ItemFees / Shipment-Fees /
--                  ServiceFee line (category `other`, is_fee_type_known false);
--   refund         what a refund, chargeback or A-to-z claim returns to the buyer (its principal, shipping,
--                  gift wrap and promotions), and goodwill credits;
--   promotion      the seller's promotional rebates to buyers on orders (amount type Promotion);
--   sale           what buyers paid on orders (ItemPrice principal, shipping, gift wrap) and liquidation revenue;
--   other          anything else (kept, never dropped: the classes still add up).
-- The taxonomy's category of any line (fee or not: a reserve transfer, a coupon fee) is kept as
-- taxonomy_category: the posting rules of the books (seeds/posting_rules.csv) key on it.
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
        lines.transaction_type = 'Refund' as is_refund,
        lines.posted_at is not null as has_posted_time,
        taxonomy.fee_category as mapped_fee_category,
        case
            when taxonomy.fee_category = 'tax'
                or lines.amount_type = 'ItemWithheldTax'
                or (lines.amount_type = 'ItemPrice' and lines.amount_description ilike '%tax%')
                then 'tax'
            when taxonomy.fee_category = 'reserve' then 'reserve'
            when lines.amount_type = 'FBA Inventory Reimbursement'
                or lines.transaction_type = 'FBA Inventory Reimbursement'
                or lines.amount_description in (
                    'WAREHOUSE_DAMAGE', 'WAREHOUSE_DAMAGE_EXCEPTION', 'WAREHOUSE_LOST', 'REVERSAL_REIMBURSEMENT',
                    'MISSING_FROM_INBOUND', 'CS_ERROR_ITEMS', 'INCORRECT_FEES_ITEMS',
                    'INCORRECT_FEES_NON_ITEMIZED', 'MULTICHANNEL_ORDER_DAMAGED', 'MULTICHANNEL_ORDER_LATE',
                    'MULTICHANNEL_ORDER_LOST', 'REMOVAL_ORDER_DAMAGED', 'Refund Reimbursal',
                    'FBA Inventory Reimbursement - Customer Return'
                )
                then 'reimbursement'
            when lines.transaction_type in (
                    'Transfer', 'Payable to Amazon', 'Successful charge', 'Micro Deposit', 'Failed Disbursement'
                )
                or lines.amount_description in ('Failed Disbursement', 'Amazon Capital Services')
                then 'transfer'
            when lines.amount_type = 'Promotion' and lines.transaction_type not in (
                    'Refund', 'Chargeback Refund', 'A-to-z Guarantee Claim', 'Chargeback', 'GuaranteeClaim'
                )
                then 'promotion'
            when lines.amount_type = 'Promotion' then 'refund'
            when taxonomy.fee_category is not null
                or lines.amount_type in ('ItemFees', 'Shipment-Fees', 'ShipmentFees')
                or lines.transaction_type = 'ServiceFee'
                then 'fee'
            when lines.transaction_type in (
                    'Refund', 'Chargeback Refund', 'A-to-z Guarantee Claim', 'Chargeback', 'GuaranteeClaim'
                )
                or (lines.amount_type = 'ItemPrice' and lines.amount_description = 'Goodwill')
                then 'refund'
            when lines.amount_type = 'ItemPrice' or lines.amount_description = 'LiquidationsRevenue' then 'sale'
            else 'other'
        end as line_class
    from lines
    left join settlements on lines.settlement_id = settlements.settlement_id
    left join taxonomy
        on lines.amount_type = taxonomy.amount_type
        and lines.amount_description = taxonomy.amount_description
),

final as (
    select
        * exclude (account_id, posted_at, mapped_fee_category, resolved_account_id, resolved_posted_at),
        line_class = 'fee' as is_fee,
        mapped_fee_category as taxonomy_category,
        resolved_account_id as account_id,
        resolved_posted_at as posted_at,
        case when line_class = 'fee' then coalesce(mapped_fee_category, 'other') end as fee_category,
        -- False for a fee line whose amount-type/description the seed does not know (check
        -- unknown_fee_descriptions lists them); null for lines that are not fees.
        case when line_class = 'fee' then mapped_fee_category is not null end as is_fee_type_known
    from classified
)

select * from final
