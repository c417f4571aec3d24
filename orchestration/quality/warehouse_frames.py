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

from lake.memory import QUERY_MEMORY_LIMIT
from orchestration.warehouse.publish import read_only

PAYOUTS_SQL = """
select settlement_id, account_id, currency, period_start_at, period_end_at, deposit_at, total_amount,
       lines_total, is_reconciled
from marts.fct_payouts
"""

# Per settlement: what orders sold (principal), every fee line, and the principal refunded.
# The distinct orders are counted from one row per (settlement, type, order), which DuckDB can spill to disk,
# rather than from a set of order ids per settlement held in memory.
SETTLEMENT_AMOUNTS_SQL = """
with lines as (
    select settlement_id, transaction_type, amount_type, amount_description, amount, is_fee, order_id
    from marts.fct_settlement_lines
),
sums as (
    select
        settlement_id,
        sum(amount) filter (
            where transaction_type = 'Order' and amount_type = 'ItemPrice'
              and amount_description = 'Principal') as order_principal,
        sum(amount) filter (where is_fee) as fees,
        sum(amount) filter (
            where transaction_type = 'Refund' and amount_type = 'ItemPrice'
              and amount_description = 'Principal') as refunded_principal
    from lines
    group by settlement_id
),
orders as (
    select
        settlement_id,
        count(*) filter (where transaction_type = 'Order') as order_count,
        count(*) filter (where transaction_type = 'Refund') as refund_count
    from (
        select distinct settlement_id, transaction_type, order_id
        from lines
        where transaction_type in ('Order', 'Refund') and order_id is not null
    )
    group by settlement_id
)
select
    payouts.settlement_id,
    payouts.account_id,
    payouts.currency,
    coalesce(sums.order_principal, 0) as order_principal,
    coalesce(sums.fees, 0) as fees,
    coalesce(sums.refunded_principal, 0) as refunded_principal,
    coalesce(orders.order_count, 0) as order_count,
    coalesce(orders.refund_count, 0) as refund_count
from marts.fct_payouts as payouts
left join sums on payouts.settlement_id = sums.settlement_id
left join orders on payouts.settlement_id = orders.settlement_id
"""

FEE_DESCRIPTIONS_SQL = """
select amount_type, fee_type, currency, is_fee_type_known, count(*) as lines, sum(amount) as amount
from marts.fct_fees
group by all
"""


def read_warehouse(warehouse: Path, sql: str) -> pd.DataFrame:
    # The checks run inside the `acorn` process, beside Dagster, which must stay under 1 GiB: DuckDB spills
    # beyond the connection's memory limit (lake/memory.py).
    with read_only(warehouse, memory_limit=QUERY_MEMORY_LIMIT) as connection:
        return connection.execute(sql).to_arrow_table().to_pandas()


def payouts(warehouse: Path) -> pd.DataFrame:
    return read_warehouse(warehouse, PAYOUTS_SQL)


def settlement_amounts(warehouse: Path) -> pd.DataFrame:
    """Per settlement amounts (two checks read them: computed once per published warehouse file)."""
    status = warehouse.stat()
    identity = (str(warehouse), status.st_size, status.st_mtime_ns, status.st_ino)
    if identity not in _amounts_cache:
        _amounts_cache.clear()
        _amounts_cache[identity] = read_warehouse(warehouse, SETTLEMENT_AMOUNTS_SQL)
    return _amounts_cache[identity].copy()


# At most one entry: the amounts of the warehouse file last read, keyed by its path, size, mtime and inode.
_amounts_cache: dict[tuple[str, int, int, int], pd.DataFrame] = {}


def fee_descriptions(warehouse: Path) -> pd.DataFrame:
    return read_warehouse(warehouse, FEE_DESCRIPTIONS_SQL)
