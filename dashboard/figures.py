"""Every figure the dashboard shows, as SQL over the marts (read from a snapshot: dashboard/snapshot.py).

Money is summed as DECIMAL in DuckDB and returned as `Decimal`; a figure is always in one currency (the filter's),
never a sum across currencies. Chart series are cast to DOUBLE only to be drawn.

Definitions (the README's "Dashboard" section says the same):
- sales: the ItemPrice lines of Order transactions other than tax (principal, shipping, gift wrap) in the
  settlement reports, i.e. what buyers paid for the goods;
- net proceeds: every settlement line (sales, taxes, fees, refunds, reserves, adjustments), i.e. what Amazon
  owes the account for the period, which its payouts add up to;
- fees: every line of `fct_fees` (its `fee_category` from the fee taxonomy); share of sales = -fees / sales;
- refunds: the ItemPrice lines of Refund transactions other than tax; refund rate = -refunds / sales;
- money held: deferred money by maturity date (`rpt_deferred_schedule`), the open period's balance so far
  (`rpt_payout_forecast.balance_so_far`) and the reserve Amazon holds back (the latest settlement's
  "Current Reserve Amount" per marketplace, with its sign turned: money held is positive).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

SALES_CONDITION = "transaction_type = 'Order' and amount_type = 'ItemPrice' and amount_description <> 'Tax'"
REFUNDS_CONDITION = (
    "transaction_type = 'Refund' and amount_type = 'ItemPrice' and amount_description <> 'Tax'"
)
RESERVE_HELD_DESCRIPTION = "Current Reserve Amount"


@dataclass(frozen=True)
class Filters:
    """What a page shows: one currency (never two summed), optionally one account and one marketplace."""

    currency: str
    account: str | None = None
    marketplace: str | None = None

    def where(self, *, marketplace_column: str | None = "marketplace_name") -> tuple[str, list[Any]]:
        """A SQL condition on `currency`, `account_id` and the marketplace column, and its parameters."""
        clauses, params = ["currency = ?"], [self.currency]
        if self.account:
            clauses.append("account_id = ?")
            params.append(self.account)
        if self.marketplace and marketplace_column:
            clauses.append(f"{marketplace_column} = ?")
            params.append(self.marketplace)
        return " and ".join(clauses), params


def _scalar(connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> Decimal:
    row = connection.execute(sql, params).fetchone()
    value = row[0] if row else None
    return Decimal(value) if value is not None else Decimal("0.00")


def _frame(connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pd.DataFrame:
    return connection.execute(sql, params).df()


def table_exists(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = connection.execute(
        "select count(*) from information_schema.tables where table_schema = 'marts' and table_name = ?",
        [name],
    ).fetchone()
    return bool(row and row[0])


# ----- choices for the filters -----


def accounts(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Every account with money in the marts (settlement lines, deferred money) or vendor orders."""
    sql = "select account_id from marts.fct_settlement_lines where account_id is not null"
    if table_exists(connection, "fct_vendor_po_lines"):
        sql += " union select account_id from marts.fct_vendor_po_lines where account_id is not null"
    return [
        row[0] for row in connection.execute(f"select distinct account_id from ({sql}) order by 1").fetchall()
    ]


def account_time_zones(connection: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each account's display zone as the warehouse decided it (`marts.dim_account.time_zone`)."""
    if not table_exists(connection, "dim_account"):
        return {}
    rows = connection.execute(
        "select account_id, time_zone from marts.dim_account where account_id is not null"
    )
    return {account_id: zone for account_id, zone in rows.fetchall()}


def currencies(connection: duckdb.DuckDBPyConnection, account: str | None) -> list[str]:
    """The currencies the account (or any account) has money in: settlements, deferred money, vendor orders."""
    sources = ["fct_settlement_lines", "rpt_deferred_schedule", "fct_vendor_po_lines"]
    present = [name for name in sources if table_exists(connection, name)]
    condition = "currency is not null" + (" and account_id = ?" if account else "")
    union = " union ".join(f"select currency from marts.{name} where {condition}" for name in present)
    params: list[Any] = [account] * len(present) if account else []
    rows = connection.execute(f"select distinct currency from ({union}) order by 1", params).fetchall()
    return [row[0] for row in rows]


def marketplaces(connection: duckdb.DuckDBPyConnection, account: str | None, currency: str) -> list[str]:
    sql = "select distinct marketplace_name from marts.fct_settlement_lines where currency = ?"
    params: list[Any] = [currency]
    if account:
        sql += " and account_id = ?"
        params.append(account)
    sql += " and marketplace_name is not null order by 1"
    return [row[0] for row in connection.execute(sql, params).fetchall()]


# ----- income -----


def sales(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    sql = f"select sum(amount) from marts.fct_settlement_lines where {where} and {SALES_CONDITION}"
    return _scalar(connection, sql, params)


def net_proceeds(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    return _scalar(connection, f"select sum(amount) from marts.fct_settlement_lines where {where}", params)


def income_over_time(connection: duckdb.DuckDBPyConnection, filters: Filters, time_zone: str) -> pd.DataFrame:
    """Cumulative sales and net proceeds per day (days in `time_zone`)."""
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        with daily as (
            select cast(timezone(?, posted_at) as date) as day,
                   sum(amount) filter (where {SALES_CONDITION}) as sales,
                   sum(amount) as net_proceeds
            from marts.fct_settlement_lines
            where {where} and posted_at is not null
            group by 1
        )
        select day,
               cast(sum(coalesce(sales, 0)) over (order by day) as double) as "cumulative sales",
               cast(sum(net_proceeds) over (order by day) as double) as "cumulative net proceeds"
        from daily order by day
        """,
        [time_zone, *params],
    )


# ----- money held -----


def deferred_held(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    return _scalar(
        connection, f"select sum(deferred_amount) from marts.rpt_deferred_schedule where {where}", params
    )


def deferred_by_maturity(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select maturity_date, account_id, marketplace_name, sum(deferred_amount) as deferred_amount,
               sum(transaction_count) as transactions, string_agg(distinct deferral_reasons, ', ') as reasons
        from marts.rpt_deferred_schedule where {where}
        group by all order by maturity_date, account_id, marketplace_name
        """,
        params,
    )


def reserve_held(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    """The reserve each marketplace's latest settlement held back, summed (positive: money Amazon holds)."""
    where, params = filters.where()
    return _scalar(
        connection,
        f"""
        with latest as (
            select account_id, marketplace_name, currency, max_by(settlement_id, period_end_at) as settlement_id
            from marts.fct_payouts where {where} group by all
        )
        select -sum(lines.amount)
        from marts.fct_settlement_lines as lines
        inner join latest using (settlement_id)
        where lines.amount_description = '{RESERVE_HELD_DESCRIPTION}'
        """,
        params,
    )


def forecast_rows(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """`rpt_payout_forecast` for the filters: one row per marketplace's next payout."""
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select marketplace_name, account_id, expected_deposit_at, expected_amount, amazon_expected_amount,
               amazon_expected_at, expected_amount_low, expected_amount_high, balance_so_far, balance_source,
               deferred_maturing_in_period, known_amount_by_period_end, open_period_start_at,
               expected_period_end_at, payout_history_count
        from marts.rpt_payout_forecast where {where} order by account_id, marketplace_name
        """,
        params,
    )


def open_period_balance(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    return _scalar(
        connection, f"select sum(balance_so_far) from marts.rpt_payout_forecast where {where}", params
    )


def amazon_expected(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal | None:
    """Amazon's expected payouts for the open periods (null when Amazon states none for these filters)."""
    where, params = filters.where()
    row = connection.execute(
        f"select sum(amazon_expected_amount) from marts.rpt_payout_forecast where {where}", params
    ).fetchone()
    return Decimal(row[0]) if row and row[0] is not None else None


def scheduled(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    """Payouts Amazon announced that no settlement report covers yet."""
    if not table_exists(connection, "fct_scheduled_payouts"):
        return Decimal("0.00")
    where, params = filters.where()
    return _scalar(connection, f"select sum(amount) from marts.fct_scheduled_payouts where {where}", params)


def scheduled_rows(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    if not table_exists(connection, "fct_scheduled_payouts"):
        return pd.DataFrame()
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select scheduled_at, account_id, marketplace_name, amount, payout_status, period_start_at, period_end_at,
               source, settlement_id, financial_event_group_id
        from marts.fct_scheduled_payouts where {where} order by scheduled_at, account_id, marketplace_name
        """,
        params,
    )


# ----- payouts -----


def paid_out(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    return _scalar(connection, f"select sum(total_amount) from marts.fct_payouts where {where}", params)


def payout_history(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select deposit_at, account_id, marketplace_name, settlement_id, period_start_at, period_end_at,
               total_amount, is_reconciled, difference
        from marts.fct_payouts where {where} order by deposit_at, account_id, marketplace_name
        """,
        params,
    )


# ----- fees -----


def fees(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    return _scalar(connection, f"select sum(amount) from marts.fct_fees where {where}", params)


def fees_by_category(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select coalesce(fee_category, 'uncategorised') as fee_category, sum(amount) as amount
        from marts.fct_fees where {where} group by 1 order by amount
        """,
        params,
    )


def fees_over_time(connection: duckdb.DuckDBPyConnection, filters: Filters, time_zone: str) -> pd.DataFrame:
    """Fees (as positive costs) per week and category, weeks starting Monday in `time_zone`."""
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select cast(date_trunc('week', timezone(?, posted_at)) as date) as week,
               coalesce(fee_category, 'uncategorised') as fee_category,
               cast(-sum(amount) as double) as fees
        from marts.fct_fees where {where} and posted_at is not null
        group by all order by all
        """,
        [time_zone, *params],
    )


def weekly_share_of_sales(
    connection: duckdb.DuckDBPyConnection, filters: Filters, time_zone: str
) -> pd.DataFrame:
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        with weekly_fees as (
            select cast(date_trunc('week', timezone(?, posted_at)) as date) as week, -sum(amount) as fees
            from marts.fct_fees where {where} and posted_at is not null group by 1
        ),
        weekly_sales as (
            select cast(date_trunc('week', timezone(?, posted_at)) as date) as week, sum(amount) as sales
            from marts.fct_settlement_lines where {where} and {SALES_CONDITION} and posted_at is not null group by 1
        )
        select week, cast(fees / nullif(sales, 0) as double) as "fees / sales"
        from weekly_fees inner join weekly_sales using (week) order by week
        """,
        [time_zone, *params, time_zone, *params],
    )


# ----- refunds -----


def refunds(connection: duckdb.DuckDBPyConnection, filters: Filters) -> Decimal:
    where, params = filters.where()
    sql = f"select sum(amount) from marts.fct_settlement_lines where {where} and {REFUNDS_CONDITION}"
    return _scalar(connection, sql, params)


def refunds_over_time(
    connection: duckdb.DuckDBPyConnection, filters: Filters, time_zone: str
) -> pd.DataFrame:
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select cast(date_trunc('week', timezone(?, posted_at)) as date) as week,
               cast(-sum(amount) filter (where {REFUNDS_CONDITION})
                    / nullif(sum(amount) filter (where {SALES_CONDITION}), 0) as double) as "refund rate"
        from marts.fct_settlement_lines where {where} and posted_at is not null
        group by 1 order by 1
        """,
        [time_zone, *params],
    )


def refunds_by_sku(connection: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    where, params = filters.where()
    return _frame(
        connection,
        f"""
        select sku, sum(amount) filter (where {SALES_CONDITION}) as sales,
               sum(amount) filter (where {REFUNDS_CONDITION}) as refunds,
               round(-sum(amount) filter (where {REFUNDS_CONDITION})
                     / nullif(sum(amount) filter (where {SALES_CONDITION}), 0), 4) as refund_rate
        from marts.fct_settlement_lines where {where} and sku is not null
        group by sku having sum(amount) filter (where {REFUNDS_CONDITION}) is not null
        order by refund_rate desc nulls last
        """,
        params,
    )


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator / denominator to 4 places (a share), None when there is nothing to divide by."""
    if not denominator:
        return None
    return (numerator / denominator).quantize(Decimal("0.0001"))


# ----- vendor -----


def vendor_totals(
    connection: duckdb.DuckDBPyConnection, account: str | None, currency: str
) -> dict[str, Any]:
    """Open lines, purchase orders, open, received and ordered value of the vendor POs in `currency`."""
    sql = """
        select count(*) filter (where open_quantity > 0), count(distinct purchase_order_number),
               sum(open_value), sum(received_value), sum(ordered_value)
        from marts.fct_vendor_po_lines where currency = ?
    """
    params: list[Any] = [currency]
    if account:
        sql += " and account_id = ?"
        params.append(account)
    row = connection.execute(sql, params).fetchone() or (0, 0, None, None, None)
    return {
        "open_lines": int(row[0]),
        "purchase_orders": int(row[1]),
        "open_value": Decimal(row[2] or 0),
        "received_value": Decimal(row[3] or 0),
        "ordered_value": Decimal(row[4] or 0),
    }


def vendor_orders(connection: duckdb.DuckDBPyConnection, account: str | None, currency: str) -> pd.DataFrame:
    sql = """
        select account_id, purchase_order_number, purchase_order_state, purchase_order_at, currency,
               sum(ordered_quantity) as ordered, sum(received_quantity) as received, sum(open_quantity) as open,
               sum(ordered_value) as ordered_value, sum(received_value) as received_value,
               sum(open_value) as open_value
        from marts.fct_vendor_po_lines where currency = ?
    """
    params: list[Any] = [currency]
    if account:
        sql += " and account_id = ?"
        params.append(account)
    return _frame(
        connection, sql + " group by all order by purchase_order_at desc, purchase_order_number", params
    )
