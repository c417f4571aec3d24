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
from typing import TYPE_CHECKING

from lake.memory import QUERY_MEMORY_LIMIT
from orchestration.published_warehouse import read_only
from orchestration.warehouse_catalog import configured_warehouse

if TYPE_CHECKING:
    import pandas as pd

PAYOUTS_SQL = """
select settlement_id, account_id, currency, period_start_at, period_end_at, deposit_at, total_amount,
       lines_total, is_reconciled
from marts.fct_payouts
"""

# Per settlement: what orders sold (principal), every fee line, the principal refunded, and the distinct orders
# and refunded orders, summed by dbt once per settlement (int_settlement_amounts, incremental by settlement):
# reading them costs one row per settlement, however long the history.
SETTLEMENT_AMOUNTS_SQL = """
select
    payouts.settlement_id,
    payouts.account_id,
    payouts.currency,
    coalesce(amounts.order_principal, 0) as order_principal,
    coalesce(amounts.fees, 0) as fees,
    coalesce(amounts.refunded_principal, 0) as refunded_principal,
    coalesce(amounts.order_count, 0) as order_count,
    coalesce(amounts.refund_count, 0) as refund_count
from marts.fct_payouts as payouts
left join intermediate.int_settlement_amounts as amounts on payouts.settlement_id = amounts.settlement_id
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
    """Per settlement amounts (two checks read them: computed once per published warehouse file; read each time
    from a DuckLake catalog, which has no file to key the cache by)."""
    if configured_warehouse(warehouse) is not None:
        return read_warehouse(warehouse, SETTLEMENT_AMOUNTS_SQL)
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
