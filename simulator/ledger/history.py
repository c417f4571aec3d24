"""Generates the synthetic business history: orders, refunds, fees, reserves, ... as ledger entries.

Everything is derived from ``random.Random`` instances seeded by strings (stable across processes), one per
(seed, account, marketplace, period), so a period's business does not depend on ``today``; only the window of
periods and where the deliberate anomalies sit are placed relative to ``today``.

One module of about 800 lines on purpose: every step below draws from the same per-period random streams in a
fixed order (that order fixes every byte the simulator serves for a seed), and reads best in that order.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from simulator.ledger.catalog import (
    MARKETPLACES,
    SELLERS,
    Marketplace,
    Product,
    SellerProfile,
    simulated_seller_profiles,
)
from simulator.ledger.model import Entry, Line, Period, Settlement, V0Slot

PERIOD_LENGTH = timedelta(days=14)
CALENDAR_EPOCH = date(2024, 1, 4)  # settlement periods are 14-day steps from here
CLOSED_PERIODS_BEFORE_TODAY = 10  # at least eight are asked for; two more give the trailing medians history
FUTURE_HISTORY = timedelta(days=30)  # generated now, visible only when the simulator clock gets there
DD7_DAYS = timedelta(days=7)  # DD+7: money matures seven days after delivery
B2B_TERMS = timedelta(days=30)  # B2B invoiced orders: money released when the invoice term ends
REFERRAL_RATE = Decimal("0.15")
CENT = Decimal("0.01")

# Where each anomaly sits, counted in periods back from the open one (all inside getReports' 90 days).
DRIFTED_REPORT_PERIODS_BACK = 5
FEE_OUTLIER_PERIODS_BACK = 4
REFUND_SPIKE_PERIODS_BACK = 3
V0_MISMATCH_PERIODS_BACK = 4
PAYOUT_ANOMALY_PERIODS_BACK = 2
# Event types that are rare in the regular business are forced into this period so the history shows them.
RARE_EVENTS_PERIODS_BACK = 6

DRIFTED_REPORT_MARKETPLACE = "ATVPDKIKX0DER"
FEE_OUTLIER_MARKETPLACE = "A1PA6795UKMFR9"
REFUND_SPIKE_MARKETPLACE = "A2EUQ1WTGCTBG2"
V0_MISMATCH_MARKETPLACE = "ATVPDKIKX0DER"
PAYOUT_ANOMALY_MARKETPLACE = "ATVPDKIKX0DER"


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def stable_digits(*parts: object, digits: int) -> str:
    """A number of ``digits`` digits (no leading zero) derived from ``parts``: stable ids across runs."""
    h = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")
    low = 10 ** (digits - 1)
    return str(low + h % (9 * low))


def stable_token(*parts: object, length: int) -> str:
    """An opaque identifier (letters and digits) derived from ``parts``."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


def stable_uuid(*parts: object) -> str:
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Calendar:
    """The 14-day settlement periods of one seller account."""

    time_of_day: time

    def period(self, index: int) -> Period:
        start = datetime.combine(CALENDAR_EPOCH, self.time_of_day, tzinfo=UTC) + index * PERIOD_LENGTH
        return Period(index=index, start=start, end=start + PERIOD_LENGTH)

    def index_of(self, moment: datetime) -> int:
        origin = datetime.combine(CALENDAR_EPOCH, self.time_of_day, tzinfo=UTC)
        return (moment - origin) // PERIOD_LENGTH


@dataclass
class _MarketplaceHistory:
    """Mutable state while one marketplace's history is generated."""

    seed: int
    profile: SellerProfile
    marketplace: Marketplace
    calendar: Calendar
    open_index: int
    first_index: int
    last_index: int
    entries: list[Entry] = field(default_factory=list)
    sales_by_period: dict[int, Decimal] = field(default_factory=dict)
    counter: int = 0

    @property
    def account_id(self) -> str:
        return self.profile.account.account_id

    def rng(self, *parts: object) -> random.Random:
        key = "|".join(map(str, (self.seed, self.account_id, self.marketplace.marketplace_id, *parts)))
        return random.Random(key)

    def next_id(self, rng: random.Random, kind: str) -> str:
        self.counter += 1
        return stable_token(
            self.seed, self.account_id, self.marketplace.marketplace_id, kind, self.counter, length=22
        )

    def order_id(self, rng: random.Random) -> str:
        prefix = self.marketplace.order_id_prefix
        middle, last = rng.randint(1_000_000, 9_999_999), rng.randint(1_000_000, 9_999_999)
        return f"{prefix}{rng.randint(1, 9)}-{middle}-{last}"


def _random_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    # Whole seconds: every rendering writes seconds, and filters must see the same instant.
    return (start + timedelta(seconds=rng.randrange(seconds))).replace(microsecond=0)


# -- lines ---------------------------------------------------------------------------------------------------


def _item_lines(
    mp: Marketplace,
    product: Product,
    quantity: int,
    item_code: str,
    *,
    shipping: Decimal,
    promotion: Decimal,
    promotion_id: str | None,
    sign: int,
    refund: bool,
) -> list[Line]:
    """The lines of one order item; ``sign`` -1 reverses the buyer's money (refunds, chargebacks)."""
    s = Decimal(sign)

    def item_line(
        amount_type: str,
        description: str,
        amount: Decimal,
        slot: V0Slot,
        v0_type: str,
        path: tuple[str, ...],
        promotion_id: str | None = None,
    ) -> Line:
        return Line(
            amount_type,
            description,
            amount,
            slot,
            v0_type,
            path,
            sku=product.sku,
            quantity=quantity,
            order_item_code=item_code,
            promotion_id=promotion_id,
        )

    principal = product.price * quantity
    lines = [
        item_line("ItemPrice", "Principal", s * principal, "charge", "Principal", ("Sales", "ProductCharges"))
    ]
    taxable = principal + shipping - promotion
    if mp.sales_tax_rate:
        tax = mp.amount(taxable * mp.sales_tax_rate)
        lines.append(item_line("ItemPrice", "Tax", s * tax, "charge", "Tax", ("Tax", "TaxCollected")))
        lines.append(
            item_line(
                "ItemWithheldTax",
                "MarketplaceFacilitatorTax-Principal",
                -s * tax,
                "tax_withheld",
                "MarketplaceFacilitatorTax-Principal",
                ("Tax", "MarketplaceFacilitatorTax"),
            )
        )
    if shipping:
        lines.append(
            item_line(
                "ItemPrice", "Shipping", s * shipping, "charge", "ShippingCharge", ("Sales", "Shipping")
            )
        )
        lines.append(
            item_line(
                "ItemFees",
                "ShippingChargeback",
                -s * shipping,
                "fee",
                "ShippingChargeback",
                ("Expenses", "AmazonFees", "ShippingChargeback"),
            )
        )
    if promotion:
        lines.append(
            item_line(
                "Promotion",
                "Principal",
                -s * promotion,
                "promotion",
                "PromotionMetaDataDefinitionValue",
                ("Sales", "Promotions"),
                promotion_id=promotion_id,
            )
        )
    commission = max(mp.amount((principal + shipping - promotion) * REFERRAL_RATE), mp.fixed(Decimal("0.30")))
    lines.append(
        item_line(
            "ItemFees",
            "Commission",
            -s * commission,
            "fee",
            "Commission",
            ("Expenses", "AmazonFees", "ReferralFee"),
        )
    )
    if sign > 0:
        lines.append(
            item_line(
                "ItemFees",
                "FBAPerUnitFulfillmentFee",
                -product.fba_fee * quantity,
                "fee",
                "FBAPerUnitFulfillmentFee",
                ("Expenses", "AmazonFees", "FBAFulfillmentFee"),
            )
        )
    if refund:
        # Amazon keeps a refund administration fee: 20% of the referral fee, at most 5.00.
        lines.append(
            item_line(
                "ItemFees",
                "RefundCommission",
                -min(mp.amount(commission * Decimal("0.2")), mp.fixed(Decimal("5.00"))),
                "fee",
                "RefundCommission",
                ("Expenses", "AmazonFees", "RefundAdministrationFee"),
            )
        )
    return lines


@dataclass(frozen=True)
class _OrderItem:
    product: Product
    quantity: int
    item_code: str
    shipping: Decimal
    promotion: Decimal
    promotion_id: str | None


def _draw_items(
    h: _MarketplaceHistory,
    rng: random.Random,
    *,
    products: tuple[Product, ...] | None = None,
    items: int | None = None,
) -> list[_OrderItem]:
    """What one buyer orders: one item mostly, sometimes two; one unit mostly."""
    mp = h.marketplace
    catalog = products or mp.products
    order_items = []
    for _ in range(items or (1 if rng.random() < 0.9 else 2)):
        product = rng.choice(catalog)
        quantity = rng.choices((1, 2, 3), weights=(94, 5, 1))[0]
        shipping = mp.shipping_charge if rng.random() < 0.15 else Decimal("0")
        promo_on = rng.random() < 0.1
        promotion = mp.amount(product.price * quantity * Decimal("0.10")) if promo_on else Decimal("0")
        promotion_id = (
            f"Coupon {stable_digits(h.seed, mp.marketplace_id, product.sku, digits=6)}" if promo_on else None
        )
        order_items.append(
            _OrderItem(
                product,
                quantity,
                stable_digits(h.seed, rng.random(), digits=14),
                shipping,
                promotion,
                promotion_id,
            )
        )
    return order_items


def _make_order(
    h: _MarketplaceHistory,
    rng: random.Random,
    posted_at: datetime,
    *,
    products: tuple[Product, ...] | None = None,
    deferral: str = "DD7",
    release_at: datetime | None = None,
    items: int | None = None,
    drawn: list[_OrderItem] | None = None,
) -> tuple[Entry, list[_OrderItem]]:
    mp = h.marketplace
    order_items = drawn if drawn is not None else _draw_items(h, rng, products=products, items=items)
    lines: list[Line] = []
    for item in order_items:
        lines += _item_lines(
            mp,
            item.product,
            item.quantity,
            item.item_code,
            shipping=item.shipping,
            promotion=item.promotion,
            promotion_id=item.promotion_id,
            sign=1,
            refund=False,
        )
    if release_at is None:
        if deferral == "B2B":
            release_at = posted_at + B2B_TERMS
        else:
            release_at = posted_at + timedelta(days=rng.randint(2, 5)) + DD7_DAYS
    entry = Entry(
        entry_id=h.next_id(rng, "order"),
        account_id=h.account_id,
        marketplace_id=mp.marketplace_id,
        currency=mp.currency,
        kind="Order",
        transaction_type="Order",
        posted_at=posted_at,
        release_at=release_at,
        deferral_reason=deferral,
        lines=tuple(lines),
        order_id=h.order_id(rng),
        shipment_id=stable_token(h.seed, rng.random(), length=9).upper(),
        attributes={"invoice_id": f"INV-{stable_digits(h.seed, rng.random(), digits=9)}"}
        if deferral == "B2B"
        else {},
    )
    return entry, order_items


def _make_reversal(
    h: _MarketplaceHistory,
    rng: random.Random,
    order: Entry,
    items: list[_OrderItem],
    posted_at: datetime,
    kind: str,
) -> Entry:
    """A refund, chargeback or A-to-z claim of the first item of ``order``: released when posted."""
    item = items[0]
    adjustment_item_id = stable_digits(h.seed, order.order_id, kind, digits=14)
    lines = [
        Line(
            line.amount_type,
            line.amount_description,
            line.amount,
            line.v0_slot,
            line.v0_type,
            line.breakdown_path,
            sku=line.sku,
            quantity=line.quantity,
            order_item_code=line.order_item_code,
            adjustment_item_id=adjustment_item_id,
            promotion_id=line.promotion_id,
        )
        for line in _item_lines(
            h.marketplace,
            item.product,
            item.quantity,
            item.item_code,
            shipping=item.shipping,
            promotion=item.promotion,
            promotion_id=item.promotion_id,
            sign=-1,
            refund=kind == "Refund",
        )
    ]
    transaction_type = {
        "Refund": "Refund",
        "Chargeback": "Chargeback Refund",
        "GuaranteeClaim": "A-to-z Guarantee Claim",
    }
    return Entry(
        entry_id=h.next_id(rng, kind),
        account_id=h.account_id,
        marketplace_id=h.marketplace.marketplace_id,
        currency=h.marketplace.currency,
        kind=kind,
        transaction_type=transaction_type[kind],
        posted_at=posted_at,
        release_at=posted_at,
        deferral_reason=None,
        lines=tuple(lines),
        order_id=order.order_id,
        shipment_id=order.shipment_id,
        adjustment_id=stable_digits(h.seed, order.order_id, kind, "adj", digits=11),
    )


def _simple_entry(
    h: _MarketplaceHistory,
    rng: random.Random,
    kind: str,
    transaction_type: str,
    posted_at: datetime,
    lines: list[Line],
    **attributes: str,
) -> Entry:
    return Entry(
        entry_id=h.next_id(rng, kind),
        account_id=h.account_id,
        marketplace_id=h.marketplace.marketplace_id,
        currency=h.marketplace.currency,
        kind=kind,
        transaction_type=transaction_type,
        posted_at=posted_at,
        release_at=posted_at,
        deferral_reason=None,
        lines=tuple(lines),
        adjustment_id=stable_digits(h.seed, kind, posted_at, digits=11) if kind == "Reimbursement" else None,
        attributes=dict(attributes),
    )


def _reimbursement(
    h: _MarketplaceHistory,
    rng: random.Random,
    posted_at: datetime,
    reason: str,
    product: Product,
    quantity: int,
) -> Entry:
    per_unit = h.marketplace.amount(product.price * Decimal("0.55"))
    return _simple_entry(
        h,
        rng,
        "Reimbursement",
        "Adjustment",
        posted_at,
        [
            Line(
                "FBA Inventory Reimbursement",
                reason,
                per_unit * quantity,
                "flat",
                "FBAInventoryReimbursement",
                ("Other", "FBAInventoryReimbursement", reason),
                sku=product.sku,
                quantity=quantity,
            )
        ],
        per_unit=str(per_unit),
        asin=product.asin,
        title=product.title,
    )


def _fee_entry(
    h: _MarketplaceHistory,
    rng: random.Random,
    posted_at: datetime,
    description: str,
    fee_type: str,
    leaf: str,
    amount: Decimal,
) -> Entry:
    line = Line("other-transaction", description, -amount, "fee", fee_type, ("Expenses", "AmazonFees", leaf))
    return _simple_entry(h, rng, "ServiceFee", "ServiceFee", posted_at, [line], fee_reason=description)


# -- periods -------------------------------------------------------------------------------------------------


def _regular_period(h: _MarketplaceHistory, index: int) -> None:
    """The ordinary business of one period: orders, refunds, fees, ads, promotions, reimbursements."""
    mp = h.marketplace
    period = h.calendar.period(index)
    rng = h.rng("period", index)
    # Sales drift gently (a few percent) from period to period, so ordinary payouts stay ordinary.
    drift = Decimal(math.sin(index * 0.9)) * Decimal("0.03") + Decimal(rng.gauss(0, 0.03))
    target = mp.sales_per_period * (1 + drift)
    baskets: list[list[_OrderItem]] = []
    sales = Decimal("0")
    while sales < target:
        basket = _draw_items(h, rng)
        baskets.append(basket)
        sales += sum((item.product.price * item.quantity for item in basket), Decimal(0))
    h.sales_by_period[index] = sales
    # Orders are spread evenly over the period (one per slot, at a random moment inside it), so the money
    # DD+7 releases into each settlement stays steady.
    slot = PERIOD_LENGTH / len(baskets)
    orders: list[tuple[Entry, list[_OrderItem]]] = []
    for number, basket in enumerate(baskets):
        posted = _random_moment(rng, period.start + slot * number, period.start + slot * (number + 1))
        orders.append(_make_order(h, rng, posted, drawn=basket))
        h.entries.append(orders[-1][0])
    # About one order in twenty-five comes back, within days, in the same period: a steady refund rate.
    early = [(order, items) for order, items in orders[: len(orders) // 2] if items[0].quantity == 1]
    for order, items in rng.sample(early, min(len(early), max(1, len(orders) // 25))):
        refund_at = order.posted_at + timedelta(seconds=rng.randrange(2 * 86400, 6 * 86400))
        h.entries.append(_make_reversal(h, rng, order, items, refund_at, "Refund"))
    if rng.random() < 0.1:
        order, items = rng.choice(orders)
        chargeback_at = order.posted_at + timedelta(seconds=rng.randrange(10 * 86400, 25 * 86400))
        h.entries.append(_make_reversal(h, rng, order, items, chargeback_at, "Chargeback"))
    advertising = mp.amount(sales * Decimal(rng.uniform(0.035, 0.05)))
    ad_posted = period.start + timedelta(days=7, hours=3)
    h.entries.append(
        _simple_entry(
            h,
            rng,
            "Advertising",
            "ServiceFee",
            ad_posted,
            [
                Line(
                    "Cost of Advertising",
                    "TransactionTotalAmount",
                    -advertising,
                    "flat",
                    "ProductAdsPayment",
                    ("Expenses", "Advertising", "CostOfAdvertising"),
                )
            ],
            invoice_id=f"TR1{stable_token(h.seed, mp.marketplace_id, index, 'ads', length=10).upper()}",
        )
    )
    # A coupon runs every period; its redemption fee follows the clips.
    clips = rng.randint(10, 30)
    h.entries.append(
        _simple_entry(
            h,
            rng,
            "Coupon",
            "CouponRedemptionFee",
            _random_moment(rng, period.start, period.end),
            [
                Line(
                    "CouponRedemptionFee",
                    "Coupon Redemption Fee",
                    -mp.fixed(Decimal("0.60")) * clips,
                    "fee",
                    "CouponRedemptionFee",
                    ("Expenses", "Promotions", "CouponRedemptionFee"),
                )
            ],
            coupon_id=stable_uuid(h.seed, mp.marketplace_id, index, "coupon"),
            clips=str(clips),
        )
    )
    if index % 4 == 0:
        h.entries.append(
            _simple_entry(
                h,
                rng,
                "Deal",
                "Lightning Deal Fee",
                _random_moment(rng, period.start, period.end),
                [
                    Line(
                        "other-transaction",
                        "RunLightningDealFee",
                        -mp.fixed(Decimal("70.00")),
                        "flat",
                        "RunLightningDealFee",
                        ("Expenses", "Promotions", "LightningDealFee"),
                    )
                ],
                deal_id=stable_uuid(h.seed, mp.marketplace_id, index, "deal"),
            )
        )
    if rng.random() < 0.4:
        product = rng.choice(mp.products)
        h.entries.append(
            _reimbursement(
                h,
                rng,
                _random_moment(rng, period.start, period.end),
                "WAREHOUSE_DAMAGE",
                product,
                rng.randint(1, 3),
            )
        )
    # Monthly charges fall in whichever period holds their day.
    for day in _days(period.start, period.end):
        if day.day == 1:
            posted = datetime.combine(day, time(5, 12), tzinfo=UTC)
            if period.start <= posted < period.end:
                h.entries.append(
                    _fee_entry(
                        h,
                        rng,
                        posted,
                        "Subscription Fee",
                        "Subscription",
                        "SubscriptionFee",
                        mp.subscription_fee,
                    )
                )
        if day.day == 8:
            posted = datetime.combine(day, time(4, 12), tzinfo=UTC)
            if period.start <= posted < period.end:
                storage = mp.amount(mp.fixed(Decimal(rng.uniform(18, 65))))
                h.entries.append(
                    _fee_entry(h, rng, posted, "Storage Fee", "FBAStorageFee", "StorageFee", storage)
                )


def _days(start: datetime, end: datetime) -> Iterator[date]:
    day = start.date()
    while day <= end.date():
        yield day
        day += timedelta(days=1)


def _reserve_chain(h: _MarketplaceHistory) -> None:
    """Previous Reserve Amount Balance at each period start, Current Reserve Amount at each period end."""
    rate = h.profile.reserve_rate
    previous = h.marketplace.amount(h.sales_by_period[h.first_index - 1] * rate)
    for index in range(h.first_index, h.last_index + 1):
        period = h.calendar.period(index)
        rng = h.rng("reserve", index)
        current = h.marketplace.amount(h.sales_by_period[index] * rate)
        h.entries.append(
            _simple_entry(
                h,
                rng,
                "ReserveRelease",
                "Transfer",
                period.start,
                [
                    Line(
                        "other-transaction",
                        "Previous Reserve Amount Balance",
                        previous,
                        "flat",
                        "ReserveCredit",
                        ("Other", "Reserve", "PreviousReserveAmountBalance"),
                    )
                ],
            )
        )
        h.entries.append(
            _simple_entry(
                h,
                rng,
                "ReserveHold",
                "Transfer",
                period.end - timedelta(seconds=1),
                [
                    Line(
                        "other-transaction",
                        "Current Reserve Amount",
                        -current,
                        "flat",
                        "ReserveDebit",
                        ("Other", "Reserve", "CurrentReserveAmount"),
                    )
                ],
            )
        )
        previous = current


def _rare_events(h: _MarketplaceHistory) -> None:
    """A liquidation and an A-to-z guarantee claim: rare, but the history should show each once."""
    period = h.calendar.period(h.open_index - RARE_EVENTS_PERIODS_BACK)
    rng = h.rng("rare")
    mp = h.marketplace
    proceeds = mp.amount(mp.fixed(Decimal(rng.uniform(60, 140))))
    fee = mp.amount(proceeds * Decimal("0.15"))
    h.entries.append(
        _simple_entry(
            h,
            rng,
            "Liquidation",
            "Liquidations",
            period.start + timedelta(days=5, hours=2),
            [
                Line(
                    "other-transaction",
                    "LiquidationsRevenue",
                    proceeds,
                    "flat",
                    "LiquidationProceeds",
                    ("Other", "Liquidations", "LiquidationProceeds"),
                ),
                Line(
                    "other-transaction",
                    "LiquidationsFee",
                    -fee,
                    "flat",
                    "LiquidationFee",
                    ("Expenses", "AmazonFees", "LiquidationFee"),
                ),
            ],
            removal_order_id=f"LQ{stable_digits(h.seed, h.marketplace.marketplace_id, 'lq', digits=8)}",
        )
    )
    # A B2B invoiced order: its money waits for the invoice term (deferral reason B2B).
    b2b, _ = _make_order(h, rng, period.start + timedelta(days=2, hours=11), deferral="B2B", items=1)
    h.entries.append(b2b)
    claim_posted = period.start + timedelta(days=8, hours=4)
    order, items = _make_order(h, rng, claim_posted - timedelta(days=20), items=1)
    h.entries.append(order)
    h.entries.append(_make_reversal(h, rng, order, items, claim_posted, "GuaranteeClaim"))


def _orders_released_in(
    h: _MarketplaceHistory, rng: random.Random, period: Period, count: int, products: tuple[Product, ...]
) -> list[tuple[Entry, list[_OrderItem]]]:
    """Orders whose DD+7 money is released inside ``period`` (anomalies that must land in one settlement)."""
    made = []
    for _ in range(count):
        release = _random_moment(rng, period.start + timedelta(days=1), period.end - timedelta(days=2))
        posted = release - DD7_DAYS - timedelta(days=rng.randint(2, 5))
        made.append(_make_order(h, rng, posted, products=products, release_at=release, items=1))
    return made


def _inject_anomalies(h: _MarketplaceHistory) -> None:
    mp_id = h.marketplace.marketplace_id
    if mp_id == FEE_OUTLIER_MARKETPLACE:
        # A mis-dimensioned SKU charged oversize FBA fees: fees ≈ its price, so the payout barely moves.
        period = h.calendar.period(h.open_index - FEE_OUTLIER_PERIODS_BACK)
        rng = h.rng("anomaly", "fee-outlier")
        for order, _ in _orders_released_in(h, rng, period, 60, (h.marketplace.bulky_product,)):
            h.entries.append(order)
    if mp_id == REFUND_SPIKE_MARKETPLACE:
        # A lightning deal on a defective batch: many extra orders, four in five of them refunded.
        period = h.calendar.period(h.open_index - REFUND_SPIKE_PERIODS_BACK)
        rng = h.rng("anomaly", "refund-spike")
        for number, (order, items) in enumerate(
            _orders_released_in(h, rng, period, 15, h.marketplace.products[:1])
        ):
            h.entries.append(order)
            if number % 5 != 4:
                earliest = max(period.start, order.posted_at) + timedelta(hours=1)
                refund_at = _random_moment(rng, earliest, period.end - timedelta(hours=1))
                h.entries.append(_make_reversal(h, rng, order, items, refund_at, "Refund"))
    if mp_id == PAYOUT_ANOMALY_MARKETPLACE:
        # A lost inbound shipment reimbursed in one go: the payout is several times the usual one.
        period = h.calendar.period(h.open_index - PAYOUT_ANOMALY_PERIODS_BACK)
        rng = h.rng("anomaly", "payout")
        product = h.marketplace.products[3]
        h.entries.append(
            _reimbursement(h, rng, period.start + timedelta(days=6, hours=9), "WAREHOUSE_LOST", product, 120)
        )


def _b2b_outstanding(h: _MarketplaceHistory, today: date) -> None:
    """One B2B invoiced order posted five days before today: its money is still deferred (reason B2B)."""
    rng = h.rng("b2b-outstanding", today)
    posted = datetime.combine(today - timedelta(days=5), time(10, 30), tzinfo=UTC)
    order, _ = _make_order(h, rng, posted, deferral="B2B", items=2)
    h.entries.append(order)


def build_history(seed: int, today: date, simulated_sellers: int = 0) -> dict[str, list[Settlement]]:
    """Every seller account's settlements (oldest first) with the entries released in each (the demo's sellers,
    then `simulated_sellers` more: catalog.simulated_seller_profiles)."""
    result: dict[str, list[Settlement]] = {}
    reference = datetime.combine(today, time(12, 0), tzinfo=UTC)
    for profile in (*SELLERS, *simulated_seller_profiles(simulated_sellers)):
        calendar = Calendar(profile.period_time_of_day)
        open_index = calendar.index_of(reference)
        first_index = open_index - CLOSED_PERIODS_BEFORE_TODAY
        last_index = calendar.index_of(reference + FUTURE_HISTORY)
        settlements: list[Settlement] = []
        for mp_id in profile.account.marketplace_ids:
            h = _MarketplaceHistory(
                seed=seed,
                profile=profile,
                marketplace=MARKETPLACES[mp_id],
                calendar=calendar,
                open_index=open_index,
                first_index=first_index,
                last_index=last_index,
            )
            # From one period before the first settlement, so that one also receives matured DD+7 money.
            for index in range(first_index - 1, last_index + 1):
                _regular_period(h, index)
            _reserve_chain(h)
            _rare_events(h)
            _inject_anomalies(h)
            if mp_id == profile.account.marketplace_ids[0]:
                _b2b_outstanding(h, today)
            settlements += _settle(h)
        result[profile.account.account_id] = sorted(
            settlements, key=lambda s: (s.period.start, s.marketplace_id)
        )
    return result


def _settle(h: _MarketplaceHistory) -> list[Settlement]:
    settlements = {}
    mp_id = h.marketplace.marketplace_id
    for index in range(h.first_index, h.last_index + 1):
        period = h.calendar.period(index)
        rng = h.rng("settlement", index)
        settlements[index] = Settlement(
            settlement_id=stable_digits(h.seed, h.account_id, mp_id, index, "settlement", digits=11),
            account_id=h.account_id,
            marketplace_id=mp_id,
            currency=h.marketplace.currency,
            period=period,
            deposit_at=period.end + timedelta(days=rng.randint(1, 3)),
            report_created_at=period.end + timedelta(hours=rng.randint(5, 20), minutes=rng.randint(0, 59)),
            report_id=stable_digits(h.seed, h.account_id, mp_id, index, "report", digits=11),
            report_document_id=(
                f"amzn1.spdoc.1.4.{h.profile.account.region}."
                f"{stable_uuid(h.seed, h.account_id, mp_id, index)}.T3ZPBQ7V6Y2DV7"
            ),
            financial_event_group_id=stable_token(h.seed, h.account_id, mp_id, index, "group", length=43),
            trace_id=stable_digits(h.seed, h.account_id, mp_id, index, "trace", digits=16),
        )
    for entry in sorted(h.entries, key=lambda e: (e.release_at, e.posted_at, e.entry_id)):
        index = h.calendar.index_of(entry.release_at)
        if index in settlements:
            settlements[index].entries.append(entry)
    return list(settlements.values())
