"""The data test line_classes_partition_each_settlement (dbt_project/tests/marts) fails a settlement where a line
is counted in two classes or in none, even when the counts and the sums still add up: it counts each line's
classes per (settlement, line) first and then the distinct lines per settlement (so that DuckDB can spill it)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from dbt_runner import run_dbt
from small_lake import copy_built_warehouse

pytestmark = pytest.mark.slow

PARTITION = "line_classes_partition_each_settlement"


def _partition_test(workdir: Path) -> tuple[str, int | None, str]:
    """Run the data test alone over the whole tables; return its status, failures and compiled SQL."""
    try:
        run_dbt(workdir, "test", "--select", PARTITION)
    except AssertionError as failed:
        if "Failure in test" not in str(failed):
            raise
    results = json.loads((workdir / "target" / "run_results.json").read_text())["results"]
    (result,) = [result for result in results if result["unique_id"].split(".")[-1] == PARTITION]
    return result["status"], result["failures"], result["compiled_code"]


def test_a_line_in_two_classes_or_in_none_fails_its_settlement(tmp_path: Path, demo_build: Path) -> None:
    # Seeds, models and data tests of demo_settlements(); not the unit tests (test_warehouse_build runs those).
    warehouse = copy_built_warehouse(demo_build, tmp_path)
    assert _partition_test(tmp_path)[:2] == ("pass", 0)

    with duckdb.connect(str(warehouse)) as connection:
        # US0: one fee row carries another fee line's number, so that line is a fee twice and the first line is
        # in no class, while the number of classed rows, their total and each class still agree.
        first, second = (
            number
            for (number,) in connection.execute(
                "select line_number from marts.fct_fees where settlement_id = 'US0' order by line_number limit 2"
            ).fetchall()
        )
        connection.execute(
            "update marts.fct_fees set line_number = ? where settlement_id = 'US0' and line_number = ?",
            [second, first],
        )
        # DE0: a fee line counted twice.
        connection.execute(
            "insert into marts.fct_fees select * from marts.fct_fees "
            "where settlement_id = 'DE0' and line_number = (select min(line_number) from marts.fct_fees "
            "where settlement_id = 'DE0')"
        )

    status, failures, sql = _partition_test(tmp_path)
    assert (status, failures) == ("fail", 2)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select settlement_id, line_count, classed_lines, distinct_lines, unclassed_lines, "
            f"coalesce(mismatched_lines, 0), lines_total = classed_total from ({sql}) order by settlement_id"
        ).fetchall()
    (de0, us0) = rows
    # US0: only the distinct lines tell: as many classed rows as lines, the same total, no class mismatched.
    assert us0[0] == "US0" and us0[2] == us0[1] and us0[3] == us0[1] - 1
    assert us0[4:] == (0, 0, True)
    # DE0: one classed row more than its lines.
    assert de0[0] == "DE0" and de0[2] == de0[1] + 1 and de0[3] == de0[1]
