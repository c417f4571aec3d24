"""Real dbt over a small lake in a temporary DuckDB: every model, contract, data test and unit test passes,
and the marts hold the numbers the lake implies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from small_lake import build_warehouse, demo_settlements

# One worker builds the warehouse once for every test here (see tests/dbt/test_books_journals.py).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("warehouse_build")]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("warehouse"), demo_settlements())


def _rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_every_payout_reconciles_and_every_account_is_a_dimension(warehouse: Path) -> None:
    assert _rows(
        warehouse, "select count(*), count(*) filter (where is_reconciled) from marts.fct_payouts"
    ) == [(9, 9)]
    accounts = _rows(
        warehouse, "select account_id, currencies, settlement_count from marts.dim_account order by 1"
    )
    assert accounts == [("acct-eu", "EUR", 4), ("acct-na", "CAD,USD", 5)]
    # No config names them: each account's time zone is its region's (that of the marketplaces it is paid in).
    assert _rows(warehouse, "select account_id, time_zone from marts.dim_account order by 1") == [
        ("acct-eu", "Europe/Berlin"),
        ("acct-na", "America/Los_Angeles"),
    ]


def test_marketplace_names_are_the_seeds_whatever_the_report_spelled(warehouse: Path) -> None:
    for mart in ("fct_settlement_lines", "fct_payouts", "fct_fees", "fct_sku_daily", "dim_marketplace"):
        names = {row[0] for row in _rows(warehouse, f"select distinct marketplace_name from marts.{mart}")}
        assert "amazon.ca" not in names, mart
    assert _rows(
        warehouse, "select marketplace_names from marts.dim_account where account_id = 'acct-na'"
    ) == [("Amazon.ca,Amazon.com",)]


def test_sku_daily_keeps_currencies_apart_and_adds_up(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        """select currency, sum(units_sold), sum(principal), sum(refunds), sum(net_proceeds)
           from marts.fct_sku_daily where sku = 'SKU-A' group by currency order by currency""",
    )
    # USD: 4 periods x (2 + 1) units, 150.00 principal each; one refund of 50.00 to the buyer (the 7.50
    # commission Amazon gives back and the 1.00 it keeps are fees, not refunds).
    assert rows[2] == ("USD", 12, Decimal("600.00"), Decimal("-50.00"), rows[2][4])
    assert rows[0][:3] == ("CAD", 1, Decimal("79.99"))
    assert rows[1][:3] == ("EUR", 4, Decimal("199.60"))
    unconverted = _rows(
        warehouse, "select count(*) from marts.fct_sku_daily where net_proceeds_reporting is null"
    )
    assert unconverted == [(0,)]


def test_each_line_has_one_class_and_fees_and_refunds_are_those_classes(warehouse: Path) -> None:
    classes = dict(_rows(warehouse, "select line_class, count(*) from marts.fct_settlement_lines group by 1"))
    assert set(classes) <= {
        "sale",
        "refund",
        "fee",
        "tax",
        "promotion",
        "reserve",
        "reimbursement",
        "transfer",
    }
    assert sum(classes.values()) == _rows(warehouse, "select count(*) from marts.fct_settlement_lines")[0][0]
    # The refund returns its principal to the buyer; the commission Amazon gives back (7.50) and the
    # RefundCommission it keeps are fees, as on any order.
    assert _rows(
        warehouse, "select amount_description, amount from marts.fct_refunds where settlement_id = 'US1'"
    ) == [("Principal", Decimal("-50.00"))]
    refund_fees = _rows(
        warehouse,
        "select fee_type, amount from marts.fct_fees "
        "where settlement_id = 'US1' and transaction_type = 'Refund' order by fee_type",
    )
    assert refund_fees[0] == ("Commission", Decimal("7.50"))
    assert [row[0] for row in refund_fees] == ["Commission", "RefundCommission"]
    # The report gives the refund no quantity: fct_refunds carries the units on its Principal line, by the
    # rule fct_sku_daily.units_refunded uses (int_settlement_refund_quantities), so the two agree.
    refunded_units = _rows(
        warehouse,
        "select sum(quantity) filter (where amount_description = 'Principal'), "
        "count(quantity) filter (where amount_description <> 'Principal') from marts.fct_refunds",
    )
    assert refunded_units[0][0] is not None and refunded_units[0][0] > 0
    assert refunded_units[0][1] == 0
    assert _rows(warehouse, "select sum(units_refunded) from marts.fct_sku_daily") == [
        (refunded_units[0][0],)
    ]
    reserve = _rows(
        warehouse,
        "select distinct line_class from marts.fct_settlement_lines "
        "where amount_description = 'Current Reserve Amount'",
    )
    assert reserve == [("reserve",)]
    for mart, line_class in (("fct_fees", "fee"), ("fct_refunds", "refund")):
        assert _rows(warehouse, f"select count(*), sum(amount) from marts.{mart}") == _rows(
            warehouse,
            f"select count(*), sum(amount) from marts.fct_settlement_lines where line_class = '{line_class}'",
        )


def test_unknown_fee_description_is_other_and_flagged(warehouse: Path) -> None:
    rows = _rows(warehouse, "select fee_type, fee_category from marts.fct_fees where not is_fee_type_known")
    assert rows == [("BrandNewMysteryFee", "other")]


def test_forecast_has_one_row_per_marketplace_the_unit_amazon_pays(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        "select account_id, marketplace_name, currency, payout_history_count, typical_period_days "
        "from marts.rpt_payout_forecast order by 1, 2",
    )
    assert rows == [
        ("acct-eu", "Amazon.de", "EUR", 4, Decimal("14.00")),
        ("acct-na", "Amazon.ca", "CAD", 1, Decimal("14.00")),
        ("acct-na", "Amazon.com", "USD", 4, Decimal("14.00")),
    ]


def test_docs_generate_offline(warehouse: Path) -> None:
    from small_lake import run_dbt

    run_dbt(warehouse.parent, "docs", "generate")
    catalog = (warehouse.parent / "target" / "catalog.json").read_text(encoding="utf-8")
    assert "fct_sku_daily" in catalog and "rpt_payout_forecast" in catalog
