"""A small settlement lake written with pyarrow, and real dbt run over it in a temporary DuckDB warehouse.

Two accounts, three currencies, a few settlements each, with orders, refunds, fees of every kind, a service
fee, a reserve transfer and one fee description the taxonomy does not know. Amounts are exact decimals.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from dbt_runner import run_dbt

from expectations.settlement_schema_drift import FLAT_FILE_V2
from orchestration.warehouse.lake_views import lake_datasets, register_lake_views

D = Decimal
START = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass
class Settlement:
    settlement_id: str
    account_id: str
    marketplace: str
    currency: str
    period: int  # fortnights after START
    lines: list[dict] = field(default_factory=list)
    raw_sha256: str = ""
    total_override: Decimal | None = None
    header: list[str] = field(default_factory=lambda: list(FLAT_FILE_V2))

    @property
    def start(self) -> datetime:
        return START + timedelta(days=14 * self.period)

    def line(
        self, transaction_type: str, amount_type: str, description: str, amount: str, **extra: object
    ) -> None:
        self.lines.append(
            {
                "transaction_type": transaction_type,
                "amount_type": amount_type,
                "amount_description": description,
                "amount": D(amount),
                **extra,
            }
        )

    def order(
        self, order_id: str, sku: str, quantity: int, principal: str, commission: str, fba: str, day: int
    ):
        at = self.start + timedelta(days=day, hours=3)
        common = {"order_id": order_id, "sku": sku, "quantity": quantity, "posted_at": at}
        self.line("Order", "ItemPrice", "Principal", principal, **common)
        self.line("Order", "ItemFees", "Commission", commission, **common)
        self.line("Order", "ItemFees", "FBAPerUnitFulfillmentFee", fba, **common)

    def refund(self, order_id: str, sku: str, principal: str, commission_back: str, day: int) -> None:
        at = self.start + timedelta(days=day, hours=5)
        common = {"order_id": order_id, "sku": sku, "quantity": 1, "posted_at": at}
        self.line("Refund", "ItemPrice", "Principal", principal, **common)
        self.line("Refund", "ItemFees", "Commission", commission_back, **common)
        self.line("Refund", "ItemFees", "RefundCommission", "-1.00", **common)


def demo_settlements() -> list[Settlement]:
    out = []
    for period in range(4):
        us = Settlement(f"US{period}", "acct-na", "Amazon.com", "USD", period)
        us.order(f"111-{period}-1", "SKU-A", 2, "100.00", "-15.00", "-8.00", 1)
        us.order(f"111-{period}-2", "SKU-B", 1, "40.00", "-6.00", "-4.10", 2)
        us.order(f"111-{period}-3", "SKU-A", 1, "50.00", "-7.50", "-4.00", 2)
        if period == 1:
            us.refund("111-1-3", "SKU-A", "-50.00", "7.50", 5)
        us.line(
            "ServiceFee",
            "other-transaction",
            "Subscription Fee",
            "-39.99",
            posted_at=us.start + timedelta(days=9),
        )
        us.line(
            "Transfer",
            "other-transaction",
            "Current Reserve Amount",
            "-20.00",
            posted_at=us.start + timedelta(days=13),
        )
        out.append(us)
        de = Settlement(f"DE{period}", "acct-eu", "Amazon.de", "EUR", period)
        de.order(f"302-{period}-1", "SKU-A", 1, "49.90", "-7.49", "-4.35", 3)
        de.line(
            "ServiceFee", "other-transaction", "Storage Fee", "-3.10", posted_at=de.start + timedelta(days=10)
        )
        out.append(de)
    # Spelled as older reports and third-party exports do: the marts carry the seed's `Amazon.ca`.
    ca = Settlement("CA0", "acct-na", "amazon.ca", "CAD", 3)
    ca.order("702-3-1", "SKU-A", 1, "79.99", "-12.00", "-6.95", 4)
    ca.line(
        "Order",
        "ItemFees",
        "BrandNewMysteryFee",
        "-0.99",
        order_id="702-3-1",
        sku="SKU-A",
        posted_at=ca.start + timedelta(days=4, hours=3),
    )
    out.append(ca)
    for settlement in out:
        settlement.raw_sha256 = f"sha-{settlement.settlement_id}-v1"
    return out


def write_lake(lake: Path, settlements: list[Settlement]) -> None:
    """Each settlement as its own partition, as the importer writes them (replaced whole on re-issue)."""
    schemas = lake_datasets()
    for dataset in ("settlement_lines", "settlements"):
        if (lake / dataset).exists():
            for old in (lake / dataset).glob("*/*.parquet"):
                old.unlink()
    for s in settlements:
        total = (
            s.total_override
            if s.total_override is not None
            else sum((ln["amount"] for ln in s.lines if ln["amount"] is not None), D(0))
        )
        lines = [
            {
                "settlement_id": s.settlement_id,
                "line_number": number,
                "source_line": number + 2,
                "account_id": s.account_id,
                "source_layout": "flat_file_v2",
                "marketplace_name": s.marketplace,
                "currency": s.currency,
                "raw_sha256": s.raw_sha256,
                **line,
            }
            for number, line in enumerate(s.lines, start=1)
        ]
        row = {
            "settlement_id": s.settlement_id,
            "account_id": s.account_id,
            "source_layout": "flat_file_v2",
            "marketplace_name": s.marketplace,
            "currency": s.currency,
            "period_start_at": s.start,
            "period_end_at": s.start + timedelta(days=14),
            "deposit_at": s.start + timedelta(days=15, hours=2),
            "total_amount": total,
            "lines_total": sum((ln["amount"] for ln in s.lines if ln["amount"] is not None), D(0)),
            "line_count": len(lines),
            "raw_sha256": s.raw_sha256,
            "source_name": f"{s.settlement_id}.txt",
            "header_columns": s.header,
        }
        for dataset, rows in (("settlement_lines", lines), ("settlements", [row])):
            folder = lake / dataset / f"settlement_id={s.settlement_id}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=schemas[dataset]), folder / "part-0.parquet")


def build_warehouse(
    workdir: Path, settlements: list[Settlement], *dbt_args: str, command: str = "build"
) -> Path:
    lake = workdir / "lake"
    write_lake(lake, settlements)
    register_lake_views(workdir / "warehouse.duckdb", lake)
    run_dbt(workdir, command, *dbt_args)
    return workdir / "warehouse.duckdb"


def copy_built_warehouse(built: Path, workdir: Path) -> Path:
    """The warehouse and lake `build_warehouse` left in `built`, copied into `workdir` (which then holds what a
    build there would have left: the same files, its lake views over `workdir`'s lake), for tests that start
    from the same build and change their copy; `built` is left as it is."""
    shutil.copytree(built / "lake", workdir / "lake", dirs_exist_ok=True)
    for file in built.glob("warehouse.duckdb*"):
        shutil.copy2(file, workdir / file.name)
    register_lake_views(workdir / "warehouse.duckdb", workdir / "lake")
    return workdir / "warehouse.duckdb"
