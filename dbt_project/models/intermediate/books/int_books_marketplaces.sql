-- Every marketplace with its time zone and the ledger-neutral keys of the bank account its deposits reach and
-- of the card (or clearing) account a negative settlement charges.
with marketplaces as (
    select * from {{ ref('marketplaces') }}
),

time_zones as (
    select * from {{ ref('marketplace_time_zones') }}
),

final as (
    select
        marketplaces.marketplace_id,
        marketplaces.marketplace_name,
        marketplaces.country_code,
        marketplaces.default_currency,
        time_zones.time_zone,
        'bank_amazon_' || lower(marketplaces.country_code) as bank_account_key,
        'card_amazon_' || lower(marketplaces.country_code) as card_account_key
    from marketplaces
    left join time_zones on marketplaces.marketplace_id = time_zones.marketplace_id
)

select * from final
