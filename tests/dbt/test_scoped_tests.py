"""The data tests over the tables that grow with the history check, in an incremental build, the settlements
that build rewrote (macros/build_changes.sql); `dbt test` alone and a full build check every row; a key whose
test failed is checked again by every later build until it passes."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dbt_runner import run_dbt
from small_lake import Settlement, copy_built_warehouse, demo_settlements, write_lake

pytestmark = pytest.mark.slow

# The build of the `demo_build` fixture (tests/dbt/conftest.py), which each test starts from (a copy of it).
BUILD = ["build", "--exclude-resource-type", "unit_test"]
UNIQUE_LINES = "unique_combination_fct_settlement_lines_settlement_id__line_number"
PARTITION = "line_classes_partition_each_settlement"


def _dbt(workdir: Path, *args: str) -> dict[str, tuple[str, int | None, str]]:
    """Run dbt (a failed test is a result here, not an error) and return, per test name, its status, failures
    and compiled SQL."""
    try:
        run_dbt(workdir, *args)
    except AssertionError as failed:
        if "Failure in test" not in str(failed):
            raise
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    out = {}
    for result in results:
        if result["unique_id"].startswith("test."):
            name = result["unique_id"].split(".")[2]
            out[name] = (result["status"], result["failures"], result.get("compiled_code") or "")
    return out


def _test(results: dict[str, tuple[str, int | None, str]], prefix: str) -> tuple[str, int | None, str]:
    (match,) = [value for name, value in results.items() if name.startswith(prefix)]
    return match


def _recorded(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            "select distinct model, kind, key from main.acorn_build_changes order by all"
        ).fetchall()


def test_an_incremental_build_checks_the_settlements_it_rewrote(tmp_path: Path, demo_build: Path) -> None:
    settlements = demo_settlements()
    warehouse = copy_built_warehouse(demo_build, tmp_path)  # `dbt build` (BUILD) of `settlements`
    # Every scoped test passed, so nothing is left to check again.
    assert _recorded(warehouse) == []

    # A duplicate line in an OLD settlement, written behind the build's back: no build rewrites US0's rows.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "insert into marts.fct_settlement_lines "
            "select * from marts.fct_settlement_lines where settlement_id = 'US0' and line_number = 1"
        )
    # A NEW settlement whose report repeats a line number: the build writes it.
    new = Settlement("US9", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US9-v1")
    new.order("111-9-1", "SKU-A", 1, "30.00", "-4.50", "-3.00", 2)
    new.line("Order", "ItemPrice", "Shipping", "0.00", line_number=1, order_id="111-9-1", sku="SKU-A")
    write_lake(tmp_path / "lake", [*settlements, new])

    incremental = _dbt(tmp_path, *BUILD)
    status, failures, sql = _test(incremental, UNIQUE_LINES)
    # Only US9's duplicate: the test read the settlements this build rewrote.
    assert (status, failures) == ("fail", 1)
    assert "'US9'" in sql and "'US0'" not in sql
    # (dbt skips line_classes_partition_each_settlement once a test of its model failed.)
    # The same rows, checked whole: `dbt test` alone (no model ran) catches both.
    alone = _dbt(tmp_path, "test", "--select", "fct_settlement_lines")
    assert _test(alone, UNIQUE_LINES)[:2] == ("fail", 2)
    assert _test(alone, PARTITION)[:2] == ("fail", 2)
    # The failed test's settlement stays recorded, so the next build checks it again though it adds nothing.
    assert ("fct_settlement_lines", "key", "US9") in _recorded(warehouse)
    again = _dbt(tmp_path, *BUILD)
    status, failures, sql = _test(again, UNIQUE_LINES)
    assert (status, failures) == ("fail", 1) and "'US9'" in sql

    # A full refresh rebuilds every row (US0's stray copy is gone) and checks them all.
    full = _dbt(tmp_path, *BUILD, "--full-refresh")
    status, failures, sql = _test(full, UNIQUE_LINES)
    assert (status, failures) == ("fail", 1) and "'US9'" not in sql and " in (" not in sql

    # The report is fixed (re-issued with distinct line numbers): the next build checks US9 and passes.
    new.lines = new.lines[:-1]
    new.raw_sha256 = "sha-US9-v2"
    write_lake(tmp_path / "lake", [*settlements, new])
    fixed = _dbt(tmp_path, *BUILD)
    assert _test(fixed, UNIQUE_LINES)[:2] == ("pass", 0)
    assert _test(fixed, PARTITION)[:2] == ("pass", 0)
    assert _recorded(warehouse) == []


NOT_NULL_LINES = "columns_not_null_fct_settlement_lines"
FEES_ADD_UP = "sums_agree_by_fct_fees_amount__settlement_id"


def test_row_tests_and_per_settlement_sums_check_the_settlements_a_build_rewrote(
    tmp_path: Path, demo_build: Path
) -> None:
    """The not-null check (columns_not_null) and accepted_values on the line facts and their per-settlement sums
    (`where: acorn_changed_rows:...`) read, in an incremental build, the settlements it rewrote: a broken row of
    the new settlement is caught; an old settlement's is not read (its build checked it), and `dbt test` alone
    reads every row."""
    settlements = demo_settlements()
    warehouse = copy_built_warehouse(demo_build, tmp_path)  # `dbt build` (BUILD) of `settlements`
    assert _recorded(warehouse) == []

    # An OLD settlement broken behind the build's back: a line without an amount, a fee line lost.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update marts.fct_settlement_lines set amount = null where settlement_id = 'US0' and line_number = 1"
        )
        connection.execute(
            "delete from marts.fct_fees where settlement_id = 'US0' "
            "and line_number = (select min(line_number) from marts.fct_fees where settlement_id = 'US0')"
        )
    # A NEW settlement with a line without an amount: the build writes it.
    new = Settlement("US9", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US9-v1")
    new.order("111-9-1", "SKU-A", 1, "30.00", "-4.50", "-3.00", 2)
    new.lines.append({**new.lines[0], "amount_description": "Shipping", "amount": None})
    write_lake(tmp_path / "lake", [*settlements, new])

    incremental = _dbt(tmp_path, *BUILD)
    status, failures, sql = _test(incremental, NOT_NULL_LINES)
    assert (status, failures) == ("fail", 1)
    assert "'US9'" in sql and "'US0'" not in sql
    status, failures, sql = _test(incremental, FEES_ADD_UP)
    # Both sides read for the settlements rewritten only: US0's lost fee is not read, US9 adds up.
    assert (status, failures) == ("pass", 0)
    assert sql.count("'US9'") >= 2 and "'US0'" not in sql
    # `dbt test` alone checks every row: both broken settlements.
    alone = _dbt(tmp_path, "test", "--select", "fct_settlement_lines", "fct_fees")
    assert _test(alone, NOT_NULL_LINES)[:2] == ("fail", 2)
    assert _test(alone, FEES_ADD_UP)[:2] == ("fail", 1)
    # The failed test's settlement stays recorded: the next build checks it again.
    assert ("fct_settlement_lines", "key", "US9") in _recorded(warehouse)
    again = _dbt(tmp_path, *BUILD)
    status, failures, sql = _test(again, NOT_NULL_LINES)
    assert (status, failures) == ("fail", 1) and "'US9'" in sql


def _failing_rows(warehouse: Path, sql: str) -> list[tuple]:
    """The rows a failed test returns (what an engineer sees running its compiled SQL)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(f"select * from ({sql}) order by all").fetchall()


def test_one_not_null_check_per_model_names_each_column_with_nulls(tmp_path: Path, demo_build: Path) -> None:
    """A model's not-null tests are one check (`columns_not_null_<model>`, one scan): a null in any listed column
    of the settlement a build writes fails it, its rows name each column holding nulls and how many, its failures
    count every null; an old settlement's nulls are outside the build's scope and not read."""
    settlements = demo_settlements()
    warehouse = copy_built_warehouse(demo_build, tmp_path)  # `dbt build` (BUILD) of `settlements`
    first = _dbt(tmp_path, "test", "--select", "fct_settlement_lines")
    assert _test(first, NOT_NULL_LINES)[:2] == ("pass", 0)
    # An OLD settlement broken behind the build's back: no build rewrites US0's rows.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "update marts.fct_settlement_lines set amount = null, raw_sha256 = null "
            "where settlement_id = 'US0' and line_number = 1"
        )
    # A NEW settlement with two lines without an amount and one without a currency: the build writes them.
    new = Settlement("US9", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US9-v1")
    new.order("111-9-1", "SKU-A", 1, "30.00", "-4.50", "-3.00", 2)
    shipping = {**new.lines[0], "amount_description": "Shipping"}
    new.lines += [{**shipping, "amount": None}, {**shipping, "amount": None}, {**shipping, "currency": None}]
    write_lake(tmp_path / "lake", [*settlements, new])

    incremental = _dbt(tmp_path, *BUILD)
    status, failures, sql = _test(incremental, NOT_NULL_LINES)
    assert (status, failures) == ("fail", 3)
    assert "'US9'" in sql and "'US0'" not in sql
    assert _failing_rows(warehouse, sql) == [("amount", 2), ("currency", 1)]
    # `dbt test` alone reads every row: US0's nulls too, in a column of their own.
    alone = _dbt(tmp_path, "test", "--select", "fct_settlement_lines")
    status, failures, sql = _test(alone, NOT_NULL_LINES)
    assert (status, failures) == ("fail", 5)
    assert _failing_rows(warehouse, sql) == [("amount", 3), ("currency", 1), ("raw_sha256", 1)]


SOURCES_UNIQUE = "unique_combination_fct_journal_line_sources_source_kind__source_key__journal_id"


def test_lineage_uniqueness_reads_the_recorded_settlements_by_key_prefix(
    tmp_path: Path, demo_build: Path
) -> None:
    """fct_journal_line_sources' scoped uniqueness test reads each recorded settlement's rows by source_key's
    prefix (row groups skipped by min/max) and the null key's rows by conditions on source_kind: it still catches
    a duplicate in a recorded settlement, and only there, as the plain filter on its key did."""
    settlements = demo_settlements()
    warehouse = copy_built_warehouse(demo_build, tmp_path)  # `dbt build` (BUILD) of `settlements`
    new = Settlement("US9", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US9-v1")
    new.order("111-9-1", "SKU-A", 1, "30.00", "-4.50", "-3.00", 2)
    write_lake(tmp_path / "lake", [*settlements, new])
    # Models only: the lineage of US9 is written and its key stays recorded, as its test did not run.
    run_dbt(tmp_path, "run")
    assert ("fct_journal_line_sources", "key", "US9") in _recorded(warehouse)
    # A duplicate lineage row in the recorded settlement and one in an old settlement, behind the build's back.
    with duckdb.connect(str(warehouse)) as connection:
        for settlement_id in ("US9", "US0"):
            connection.execute(
                "insert into marts.fct_journal_line_sources select * from marts.fct_journal_line_sources "
                "where source_kind = 'settlement_line' and split_part(source_key, ':', 1) = ? limit 1",
                [settlement_id],
            )
    scoped = _dbt(tmp_path, *BUILD)
    status, failures, sql = _test(scoped, SOURCES_UNIQUE)
    assert (status, failures) == ("fail", 1)
    assert "source_key like 'US9%'" in sql and "'US0" not in sql
    assert "source_kind > 'settlement_line'" in sql  # the null key: the transactions' rows
    # The whole table (`dbt test` alone) has both.
    alone = _dbt(tmp_path, "test", "--select", "fct_journal_line_sources")
    status, failures, sql = _test(alone, SOURCES_UNIQUE)
    assert (status, failures) == ("fail", 2) and " like " not in sql
