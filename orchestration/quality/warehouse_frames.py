"""What the quality checks read: the DuckDB warehouse, read-only, into pandas with money as exact Decimals.

They read the published warehouse, read-only, and never block a build: a build writes a private copy and
publishes it atomically (orchestration/warehouse/publish.py), so a check sees one complete build. A program
holding the file open read-write makes a read fail with `WarehouseLocked`, naming its pid.

DuckDB's own `.df()` turns DECIMAL into float64; going through Arrow keeps `Decimal` objects, which is what
the suites compare exactly. Aggregation happens in DuckDB (exact decimal sums), so a check pulls one row per
settlement or per fee description, never millions of lines.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration.warehouse.publish import read_only

PAYOUTS_SQL = """
select settlement_id, account_id, currency, period_start_at, period_end_at, deposit_at, total_amount,
       lines_total, is_reconciled
from marts.fct_payouts
"""

# Per settlement: what orders sold (principal), every fee line, and the principal refunded.
SETTLEMENT_AMOUNTS_SQL = """
select
    payouts.settlement_id,
    payouts.account_id,
    payouts.currency,
    coalesce(sum(lines.amount) filter (
        where lines.transaction_type = 'Order' and lines.amount_type = 'ItemPrice'
          and lines.amount_description = 'Principal'), 0) as order_principal,
    coalesce(sum(lines.amount) filter (where lines.is_fee), 0) as fees,
    coalesce(sum(lines.amount) filter (
        where lines.transaction_type = 'Refund' and lines.amount_type = 'ItemPrice'
          and lines.amount_description = 'Principal'), 0) as refunded_principal,
    count(distinct lines.order_id) filter (where lines.transaction_type = 'Order') as order_count,
    count(distinct lines.order_id) filter (where lines.transaction_type = 'Refund') as refund_count
from marts.fct_payouts as payouts
left join marts.fct_settlement_lines as lines on payouts.settlement_id = lines.settlement_id
group by payouts.settlement_id, payouts.account_id, payouts.currency
"""

FEE_DESCRIPTIONS_SQL = """
select amount_type, fee_type, currency, is_fee_type_known, count(*) as lines, sum(amount) as amount
from marts.fct_fees
group by all
"""


def read_warehouse(warehouse: Path, sql: str) -> pd.DataFrame:
    with read_only(warehouse) as connection:
        return connection.execute(sql).fetch_arrow_table().to_pandas()


def payouts(warehouse: Path) -> pd.DataFrame:
    return read_warehouse(warehouse, PAYOUTS_SQL)


def settlement_amounts(warehouse: Path) -> pd.DataFrame:
    return read_warehouse(warehouse, SETTLEMENT_AMOUNTS_SQL)


def fee_descriptions(warehouse: Path) -> pd.DataFrame:
    return read_warehouse(warehouse, FEE_DESCRIPTIONS_SQL)
