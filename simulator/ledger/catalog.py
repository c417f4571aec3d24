"""The demo accounts, their marketplaces and what each sells: the fixed cast of the synthetic history."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from simulator.ledger.records import SimAccount


@dataclass(frozen=True)
class Product:
    sku: str
    asin: str
    title: str
    price: Decimal  # item price charged to the buyer (VAT included in EU marketplaces)
    fba_fee: Decimal  # FBAPerUnitFulfillmentFee per unit (positive; charged negative)


@dataclass(frozen=True)
class Marketplace:
    marketplace_id: str
    name: str  # marketplace-name in the settlement file, MarketplaceName in v0
    country: str
    currency: str
    sales_tax_rate: Decimal  # US/CA: tax charged on top and withheld by Amazon as marketplace facilitator
    file_style: Literal["na", "eu"]  # how the settlement flat file writes dates and decimals
    charset: str
    line_ending: str
    compress: bool
    sales_per_period: Decimal  # principal sold per period; orders are drawn until it is reached
    products: tuple[Product, ...]
    bulky_product: Product  # the mis-dimensioned SKU of the fee-rate outlier (fees ≈ its price)
    subscription_fee: Decimal
    order_id_prefix: str
    minor_digits: int = 2  # JPY has none: whole yen
    fixed_fee_scale: Decimal = Decimal(
        "1"
    )  # fixed fees (coupon, deal, minimum referral fee) in this currency
    shipping_charge: Decimal = Decimal("4.99")

    def amount(self, value: Decimal) -> Decimal:
        """Rounded to the currency's smallest unit (cents, or whole yen)."""
        return value.quantize(Decimal(1).scaleb(-self.minor_digits), rounding=ROUND_HALF_UP)

    def fixed(self, usd_like: Decimal) -> Decimal:
        """A fixed fee stated in dollar-like units, in this currency."""
        return self.amount(usd_like * self.fixed_fee_scale)


@dataclass(frozen=True)
class SellerProfile:
    account: SimAccount
    period_time_of_day: time  # settlement periods start and end at this UTC time
    account_tail: str  # the bank account's last digits (AccountTail / accountTail)
    reserve_rate: Decimal  # Current Reserve Amount held back: this share of the period's sales


def _p(sku: str, asin: str, title: str, price: str, fba_fee: str) -> Product:
    return Product(sku, asin, title, Decimal(price), Decimal(fba_fee))


MARKETPLACES: dict[str, Marketplace] = {
    "ATVPDKIKX0DER": Marketplace(
        marketplace_id="ATVPDKIKX0DER",
        name="Amazon.com",
        country="US",
        currency="USD",
        sales_tax_rate=Decimal("0.0725"),
        file_style="na",
        charset="UTF-8",
        line_ending="\n",
        compress=True,
        sales_per_period=Decimal("2800"),
        products=(
            _p("NX-HD-1200", "B0C7HD1200", "Nordlicht hand blender 1200 W", "59.99", "5.40"),
            _p("NX-CB-0450", "B0C7CB0450", "Cold brew jar 1.5 l", "34.50", "4.12"),
            _p("NX-AC-0071", "B0C7AC0071", "Silicone lid set (7 pcs)", "18.99", "3.22"),
            _p("NX-KT-0330", "B0C7KT0330", "Gooseneck kettle 0.9 l", "72.00", "6.10"),
            _p("NX-SC-0012", "B0C7SC0012", "Kitchen scale 5 kg", "24.95", "3.86"),
        ),
        bulky_product=_p("NX-RK-0990", "B0C7RK0990", "Drying rack, oversize", "19.99", "16.99"),
        subscription_fee=Decimal("39.99"),
        order_id_prefix="11",
    ),
    "A2EUQ1WTGCTBG2": Marketplace(
        marketplace_id="A2EUQ1WTGCTBG2",
        name="Amazon.ca",
        country="CA",
        currency="CAD",
        sales_tax_rate=Decimal("0.13"),
        file_style="na",
        charset="UTF-8",
        line_ending="\n",
        compress=False,  # served uncompressed: not every real document is gzipped
        sales_per_period=Decimal("1400"),
        products=(
            _p("NX-HD-1200", "B0C7HD1200", "Nordlicht hand blender 1200 W", "79.99", "6.95"),
            _p("NX-CB-0450", "B0C7CB0450", "Cold brew jar 1.5 l", "44.99", "5.35"),
            _p("NX-SC-0012", "B0C7SC0012", "Kitchen scale 5 kg", "32.99", "4.90"),
        ),
        bulky_product=_p("NX-RK-0990", "B0C7RK0990", "Drying rack, oversize", "26.99", "22.50"),
        subscription_fee=Decimal("29.99"),
        order_id_prefix="70",
    ),
    "A1PA6795UKMFR9": Marketplace(
        marketplace_id="A1PA6795UKMFR9",
        name="Amazon.de",
        country="DE",
        currency="EUR",
        sales_tax_rate=Decimal("0"),
        file_style="eu",
        charset="windows-1252",
        line_ending="\r\n",
        compress=True,
        sales_per_period=Decimal("1500"),
        products=(
            _p("KAFFEEMÜHLE-GR", "B0D1KM0001", "Kaffeemühle, grau", "49.90", "4.35"),
            _p("NX-HD-1200", "B0C7HD1200", "Stabmixer 1200 W", "54.99", "4.95"),
            _p("NX-CB-0450", "B0C7CB0450", "Cold-Brew-Karaffe 1,5 l", "29.95", "3.70"),
            _p("NX-SC-0012", "B0C7SC0012", "Küchenwaage 5 kg", "21.99", "3.36"),
        ),
        bulky_product=_p("NX-RK-0990", "B0C7RK0990", "Wäscheständer, Übergröße", "19.95", "16.80"),
        subscription_fee=Decimal("39.00"),
        order_id_prefix="30",
    ),
    "A13V1IB3VIYZZH": Marketplace(
        marketplace_id="A13V1IB3VIYZZH",
        name="Amazon.fr",
        country="FR",
        currency="EUR",
        sales_tax_rate=Decimal("0"),
        file_style="eu",
        charset="UTF-8",
        line_ending="\n",
        compress=True,
        sales_per_period=Decimal("1400"),
        products=(
            _p("CAFETIÈRE-8T", "B0D1CF0008", "Cafetière à piston 8 tasses", "39.90", "4.05"),
            _p("NX-HD-1200", "B0C7HD1200", "Mixeur plongeant 1200 W", "54.99", "4.95"),
            _p("NX-KT-0330", "B0C7KT0330", "Bouilloire col de cygne", "64.90", "5.60"),
        ),
        bulky_product=_p("NX-RK-0990", "B0C7RK0990", "Séchoir à linge, grand format", "19.95", "16.80"),
        subscription_fee=Decimal("39.00"),
        order_id_prefix="40",
    ),
    "A1VC38T7YXB528": Marketplace(
        marketplace_id="A1VC38T7YXB528",
        name="Amazon.co.jp",
        country="JP",
        currency="JPY",
        sales_tax_rate=Decimal("0"),  # consumption tax is included in the price
        file_style="na",
        charset="Shift_JIS",
        line_ending="\n",
        compress=True,
        sales_per_period=Decimal("280000"),
        products=(
            _p("コーヒーミル-01", "B0D1JP0001", "コーヒーミル 手挽き", "5980", "434"),
            _p("NX-HD-1200", "B0C7HD1200", "ハンドブレンダー 1200W", "7980", "514"),
            _p("NX-CB-0450", "B0C7CB0450", "水出しコーヒーボトル", "3480", "381"),
        ),
        bulky_product=_p("NX-RK-0990", "B0C7RK0990", "物干しラック 大型", "2980", "2600"),
        subscription_fee=Decimal("4900"),
        order_id_prefix="50",
        minor_digits=0,
        fixed_fee_scale=Decimal("100"),
        shipping_charge=Decimal("350"),
    ),
}

SELLERS: tuple[SellerProfile, ...] = (
    SellerProfile(
        account=SimAccount(
            account_id="demo-na",
            kind="seller",
            region="na",
            selling_partner_id="A3DEMONA7SELLR",
            marketplace_ids=("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"),
        ),
        period_time_of_day=time(0, 0, 0),
        account_tail="4417",
        reserve_rate=Decimal("0.08"),
    ),
    SellerProfile(
        account=SimAccount(
            account_id="demo-eu",
            kind="seller",
            region="eu",
            selling_partner_id="A1DEMOEU7SELLR",
            marketplace_ids=("A1PA6795UKMFR9", "A13V1IB3VIYZZH"),
        ),
        period_time_of_day=time(7, 49, 55),
        account_tail="2281",
        reserve_rate=Decimal("0.06"),
    ),
    SellerProfile(
        account=SimAccount(
            account_id="demo-jp",
            kind="seller",
            region="fe",
            selling_partner_id="A1DEMOJP7SELLR",
            marketplace_ids=("A1VC38T7YXB528",),
        ),
        period_time_of_day=time(15, 0, 0),  # midnight in Japan
        account_tail="0931",
        reserve_rate=Decimal("0.05"),
    ),
)

VENDOR = SimAccount(
    account_id="demo-vendor",
    kind="vendor",
    region="na",
    selling_partner_id="A2DEMOVN7VENDR",
    marketplace_ids=("ATVPDKIKX0DER",),
)

# Transfers 2024-06-01 listExpectedPayouts serves these marketplaces only (AMAZON-FACTS.md).
EXPECTED_PAYOUT_MARKETPLACES = frozenset(
    {
        "A1PA6795UKMFR9",  # DE
        "A13V1IB3VIYZZH",  # FR
        "APJ6JRA9NG5V4",  # IT
        "A1RKKUPIHCS9HS",  # ES
        "A2NODRKZP88ZB9",  # SE
        "A1805IZSGTT6HS",  # NL
        "A1C3SOZRARQ6R3",  # PL
        "AMEN7PMS3EDWL",  # BE
    }
)


def all_accounts(simulated_sellers: int = 0) -> list[SimAccount]:
    return (
        [seller.account for seller in SELLERS]
        + [VENDOR]
        + [seller.account for seller in simulated_seller_profiles(simulated_sellers)]
    )


# Many-account runs (the cluster demo, README "Scale-out"): seller accounts sim-na-001, sim-eu-002, ... alternate
# between the two regions' demo sellers, whose marketplaces, calendar and catalogue each one copies. Their data
# differs from their template's (every id and draw is seeded by the account id), so no two share a settlement.
SIMULATED_SELLER = re.compile(r"^sim-(na|eu)-(\d{3,})$")
_TEMPLATES = {"na": "demo-na", "eu": "demo-eu"}


def simulated_seller_id(number: int) -> str:
    """The id of the `number`-th simulated seller (1-based): odd numbers in na, even in eu."""
    return f"sim-{'na' if number % 2 else 'eu'}-{number:03d}"


def simulated_seller_profiles(count: int) -> list[SellerProfile]:
    return [_simulated_profile(simulated_seller_id(number)) for number in range(1, count + 1)]


def _simulated_profile(account_id: str) -> SellerProfile:
    match = SIMULATED_SELLER.match(account_id)
    if match is None:
        raise ValueError(f"{account_id!r} is no simulated seller id (sim-na-001, sim-eu-002, ...)")
    template = next(s for s in SELLERS if s.account.account_id == _TEMPLATES[match.group(1)])
    number = int(match.group(2))
    return dataclasses.replace(
        template,
        account=dataclasses.replace(
            template.account,
            account_id=account_id,
            selling_partner_id=f"A{number:04d}SIM{match.group(1).upper()}SELLR",
        ),
        account_tail=f"{(int(template.account_tail) + number) % 10000:04d}",
    )


def seller_profile(account_id: str) -> SellerProfile | None:
    found = next((s for s in SELLERS if s.account.account_id == account_id), None)
    if found is None and SIMULATED_SELLER.match(account_id):
        return _simulated_profile(account_id)
    return found
