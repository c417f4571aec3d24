"""Incremental line facts, payouts, per-settlement amounts, SKU-day sums and the books' postings and journals
equal a full refresh, after a new settlement and a re-issue with fewer lines."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from small_lake import (
    Settlement,
    build_warehouse,
    copy_built_warehouse,
    demo_settlements,
    run_dbt,
    write_lake,
)

pytestmark = pytest.mark.slow

# fct_payouts is built on int_payouts_reconciled, incremental by settlement too.
LINE_FACTS = (
    "marts.fct_settlement_lines",
    "marts.fct_fees",
    "marts.fct_refunds",
    "marts.fct_payouts",
    "intermediate.int_settlement_amounts",
    "intermediate.int_sku_daily_by_settlement",
    # Incremental by day, from int_sku_daily_by_settlement.
    "marts.fct_sku_daily",
    # The books: settlement lines posted incrementally by settlement (the settlements to post found first as
    # literal ids), their journal lines and lineage.
    "intermediate.int_books_settlement_lines_posted",
    "intermediate.int_books_settlement_journal_lines",
    "marts.fct_journal_lines",
    "marts.fct_journal_line_sources",
)
# Seeds and models only: the equality below is the test (dbt's data tests run in test_warehouse_build).
SELECT = [
    "--select",
    "+fct_settlement_lines",
    "+fct_fees",
    "+fct_refunds",
    "+fct_payouts",
    "+int_settlement_amounts",
    "+fct_sku_daily",
    "+fct_journal_lines",
    "+fct_journal_line_sources",
    "--resource-type",
    "seed",
    "--resource-type",
    "model",
]


# Which dbt invocation summed (posted) a row: bookkeeping for fct_sku_daily, different in every build by design.
BOOKKEEPING = {
    "intermediate.int_sku_daily_by_settlement": "exclude (built_in_invocation)",
    "intermediate.int_books_settlement_lines_posted": "exclude (posted_in_run)",
}


# The models keyed by settlement whose held versions are kept beside them (macros/changed_settlements.sql), with
# the columns kept beside (settlement_id, raw_sha256): the books post a settlement again when its account or the
# posting rules changed, too.
VERSIONED = {
    "marts.fct_settlement_lines": (),
    "marts.fct_fees": (),
    "marts.fct_refunds": (),
    "intermediate.int_payouts_reconciled": (),
    "intermediate.int_settlement_amounts": (),
    "intermediate.int_sku_daily_by_settlement": (),
    "intermediate.int_books_settlement_lines_posted": ("account_id", "posting_fingerprint"),
}


def _assert_versions_kept(warehouse: Path) -> None:
    """`acorn_settlement_versions` holds exactly each keyed model's distinct (settlement_id, raw_sha256, ...)."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for table, also in VERSIONED.items():
            model = table.split(".")[1]
            columns = ", ".join(("settlement_id", "raw_sha256", *also))
            kept = connection.execute(
                f"select {columns} from main.acorn_settlement_versions where model = ?", [model]
            ).fetchall()
            held = connection.execute(f"select distinct {columns} from {table}").fetchall()
            assert kept and sorted(kept) == sorted(held), table


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {
            table.split(".")[-1]: connection.execute(
                f"select * {BOOKKEEPING.get(table, '')} from {table} order by all"
            ).fetchall()
            for table in LINE_FACTS
        }


def _units_refunded(warehouse: Path, sku: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            "select posted_date, units_refunded from marts.fct_sku_daily where sku = ? and units_refunded <> 0",
            [sku],
        ).fetchall()


# What the scoped data tests check of each table (macros/build_changes.sql): the key a model records as rewritten,
# and the columns those tests read (fct_refunds' post-hook rewrites the quantity of older settlements' refunds:
# no scoped test reads it).
SCOPED = {
    "fct_settlement_lines": (lambda row: row[0], lambda row: row),
    "fct_fees": (lambda row: row[0], lambda row: row),
    "fct_refunds": (lambda row: row[0], lambda row: row[:2]),
    "fct_sku_daily": (lambda row: str(row[4]) if row[4] is not None else None, lambda row: row),
    "fct_journal_line_sources": (
        lambda row: row[3].split(":")[0] if row[2] == "settlement_line" else None,
        lambda row: row,
    ),
}


def _recorded_by_incremental_build(warehouse: Path) -> dict[str, set[str | None]]:
    """The keys each model recorded in the one invocation that ran it incrementally."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute(
            "select model, key from main.acorn_build_changes where kind = 'key' and invocation_id in "
            "(select invocation_id from main.acorn_build_changes where kind = 'ran')"
        ).fetchall()
        invocations = connection.execute(
            "select count(distinct invocation_id) from main.acorn_build_changes where kind = 'ran'"
        ).fetchone()
    assert invocations == (1,)
    recorded: dict[str, set[str | None]] = {}
    for model, key in rows:
        recorded.setdefault(model, set()).add(key)
    return recorded


def _settlements_with_a_refund_of_a_later_order() -> tuple[list[Settlement], datetime]:
    """The demo settlements, US2 with a refund of an order in no settlement yet, and the refund's time."""
    settlements = demo_settlements()
    unchanged = next(s for s in settlements if s.settlement_id == "US2")
    refund_day = unchanged.start + timedelta(days=6, hours=5)
    unchanged.line(
        "Refund", "ItemPrice", "Principal", "-30.00", order_id="111-9-7", sku="SKU-C", posted_at=refund_day
    )
    return settlements, refund_day


@pytest.fixture(scope="session")
def refund_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `_settlements_with_a_refund_of_a_later_order()` was built (`dbt build`, SELECT) once per
    session (per xdist worker): the tests that start from that build each take a copy of it. Never changed after
    it is built."""
    workdir = tmp_path_factory.mktemp("refund-build")
    build_warehouse(workdir, _settlements_with_a_refund_of_a_later_order()[0], *SELECT, command="build")
    return workdir


def _built_with_a_refund_of_a_later_order(
    tmp_path: Path, refund_build: Path
) -> tuple[list[Settlement], Path, dict[str, list[tuple]], datetime]:
    """The demo settlements built, US2 with a refund of an order in no settlement yet (a copy of `refund_build` in
    `tmp_path`): the refund's units are unknown until the settlement holding the order arrives
    (`_settlement_with_the_refunded_order`), which changes a day of US2 in fct_sku_daily although US2 itself does
    not change. Returns the settlements, the warehouse, its snapshot and the refund's time."""
    settlements, refund_day = _settlements_with_a_refund_of_a_later_order()
    warehouse = copy_built_warehouse(refund_build, tmp_path)
    first = _snapshot(warehouse)
    assert _units_refunded(warehouse, "SKU-C") == []
    return settlements, warehouse, first, refund_day


def _settlement_with_the_refunded_order() -> Settlement:
    """A new settlement US9 holding the order US2's refund gave back (2 units of SKU-C), and another order."""
    extra = Settlement("US9", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US9-v1")
    extra.order("111-9-1", "SKU-C", 3, "30.00", "-4.50", "-3.00", 2)
    extra.order("111-9-7", "SKU-C", 2, "60.00", "-9.00", "-6.00", 3)
    return extra


def test_incremental_run_equals_full_refresh(tmp_path: Path, refund_build: Path) -> None:
    settlements, warehouse, first, refund_day = _built_with_a_refund_of_a_later_order(tmp_path, refund_build)

    # Amazon re-issues US1 with different bytes, without its refund and one line fewer; a new settlement arrives.
    reissued = next(s for s in settlements if s.settlement_id == "US1")
    assert any(line["transaction_type"] == "Refund" for line in reissued.lines)
    reissued.lines = [line for line in reissued.lines if line["transaction_type"] != "Refund"][:-1]
    reissued.raw_sha256 = "sha-US1-v2"
    extra = _settlement_with_the_refunded_order()
    write_lake(tmp_path / "lake", [*settlements, extra])

    _assert_versions_kept(warehouse)
    run_dbt(tmp_path, "build", *SELECT)
    incremental = _snapshot(warehouse)
    _assert_versions_kept(warehouse)
    # Every row the incremental build added, removed or changed (in the columns the scoped tests read) is of a
    # key its model recorded: checking the recorded keys checks every row the build wrote.
    recorded = _recorded_by_incremental_build(warehouse)
    for table, (key, read) in SCOPED.items():
        before = Counter(read(row) for row in first[table])
        after = Counter(read(row) for row in incremental[table])
        touched = {key(row) for row in (before - after) + (after - before)}
        assert touched, table
        assert touched <= recorded[table], table
    assert recorded["fct_settlement_lines"] == {"US1", "US9"}
    run_dbt(tmp_path, "build", "--full-refresh", *SELECT)
    full = _snapshot(warehouse)
    _assert_versions_kept(warehouse)

    # US2 did not change, yet its refund of the order that arrived later now has the order's units: the
    # incremental build rewrote that quantity as a full refresh computes it.
    late_refund = [row for row in incremental["fct_refunds"] if row[5] == "111-9-7"]
    assert len(late_refund) == 1 and late_refund[0][8] == 2
    assert next(row for row in first["fct_refunds"] if row[5] == "111-9-7")[8] is None
    assert incremental == full
    assert _units_refunded(warehouse, "SKU-C") == [(refund_day.date(), 2)]
    assert incremental != first
    lines = incremental["fct_settlement_lines"]
    assert {row[-1] for row in lines if row[0] == "US1"} == {"sha-US1-v2"}
    assert sum(1 for row in lines if row[0] == "US1") == len(reissued.lines)
    assert sum(1 for row in lines if row[0] == "US9") == 6
    assert not [row for row in incremental["fct_refunds"] if row[0] == "US1"]
    amounts = {row[0]: row for row in incremental["int_settlement_amounts"]}
    assert amounts["US1"][-1] == "sha-US1-v2" and amounts["US1"][3] is None  # the re-issue has no refund
    assert amounts["US9"][-1] == "sha-US9-v1" and amounts["US9"][4] == 2  # two orders
    reissued_payout = [row for row in incremental["fct_payouts"] if row[0] == "US1"]
    assert len(reissued_payout) == 1 and reissued_payout[0][8] == sum(
        line["amount"] for line in reissued.lines
    )


def _logged_sql(workdir: Path) -> str:
    return (workdir / "logs" / "dbt.log").read_text(encoding="utf-8")


def test_new_settlements_only_find_stale_days_from_their_keys(tmp_path: Path, refund_build: Path) -> None:
    """The refund rule's bounded path (macros/refund_quantities.sql): a build that only adds settlements finds
    fct_sku_daily's stale days from the refunds of the new settlements' orders and SKUs, not by comparing the
    history's, and still equals a full refresh, including an old refund whose units the new settlement's order
    now gives."""
    settlements, warehouse, first, refund_day = _built_with_a_refund_of_a_later_order(tmp_path, refund_build)

    # Only a new settlement: it holds the order US2's refund gave back, bought 2 units of SKU-C.
    extra = _settlement_with_the_refunded_order()
    write_lake(tmp_path / "lake", [*settlements, extra])
    (tmp_path / "logs" / "dbt.log").unlink(missing_ok=True)  # the log then holds the next build only
    # As `acorn build` runs it: the Finances lake did not change, so fct_transactions is not rebuilt
    # (orchestration/warehouse/scope.py); a build that rebuilds it compares every refund.
    run_dbt(tmp_path, "build", *SELECT, "--exclude", "fct_transactions")
    incremental = _snapshot(warehouse)
    logged = _logged_sql(tmp_path)
    # The bounded path ran: the stale days read the new settlement's keys, not the full comparison of refunded
    # units and line counts.
    assert logged.count("as rule_keys using (account_id, order_id, sku)") >= 1
    assert "full outer join" not in logged
    recorded = _recorded_by_incremental_build(warehouse)
    assert recorded["fct_settlement_lines"] == {"US9"}
    assert "reissued" not in _kinds(warehouse)

    run_dbt(tmp_path, "build", "--full-refresh", *SELECT)
    full = _snapshot(warehouse)
    assert incremental == full
    assert incremental != first
    late_refund = [row for row in incremental["fct_refunds"] if row[5] == "111-9-7"]
    assert len(late_refund) == 1 and late_refund[0][8] == 2
    assert _units_refunded(warehouse, "SKU-C") == [(refund_day.date(), 2)]


def _kinds(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {
            row[0]
            for row in connection.execute("select distinct kind from main.acorn_build_changes").fetchall()
        }


def test_journals_of_settlements_without_lines_equal_a_full_refresh(tmp_path: Path) -> None:
    """int_books_settlement_journal_lines finds the settlements it journals again as literal ids: those posted in
    this build and those without posted lines. A re-issue that drops every line of a settlement leaves no posted
    line to say it was posted again, and a new settlement may have none: both are journalled as a full refresh
    journals them (their bank line alone), and the other settlements' journals are kept."""
    settlements = demo_settlements()
    warehouse = build_warehouse(tmp_path, settlements, *SELECT, command="build")
    first = _snapshot(warehouse)

    emptied = next(s for s in settlements if s.settlement_id == "US1")
    emptied.lines = []
    emptied.total_override = D("12.34")
    emptied.raw_sha256 = "sha-US1-v2"
    empty = Settlement("US8", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US8-v1")
    empty.total_override = D("0.00")
    write_lake(tmp_path / "lake", [*settlements, empty])

    run_dbt(tmp_path, "build", *SELECT)
    incremental = _snapshot(warehouse)
    run_dbt(tmp_path, "build", "--full-refresh", *SELECT)
    assert incremental == _snapshot(warehouse)

    journals = incremental["int_books_settlement_journal_lines"]
    for settlement_id, total in (("US1", D("12.34")), ("US8", D("0.00"))):
        # source_settlement_id, category, signed_amount: the bank line is the deposit, and nothing else posts.
        mine = [(row[11], row[16]) for row in journals if row[17] == settlement_id]
        assert ("bank", -total) in mine, settlement_id
    assert [row for row in journals if row[17] not in ("US1", "US8")] == [
        row for row in first["int_books_settlement_journal_lines"] if row[17] not in ("US1", "US8")
    ]


def _refund_quantity(snapshot: dict[str, list[tuple]], order_id: str) -> int | None:
    """The quantity fct_refunds holds on the refund line of `order_id` (there is one)."""
    rows = [row for row in snapshot["fct_refunds"] if row[5] == order_id and row[9] == "ItemPrice"]
    assert len(rows) == 1, rows
    return rows[0][8]


def test_refund_of_an_order_split_across_settlements_equals_a_full_refresh(tmp_path: Path) -> None:
    """A stored refund that already has units (its order's first line is in the history) gets more when a new
    settlement brings another line of the same order: the bounded path (a new settlement only) rewrites its
    quantity in fct_refunds and its day in fct_sku_daily as a full refresh computes them; a refund that states
    its own quantity keeps it, whatever orders arrive; a new settlement whose orders no stored refund names
    leaves fct_refunds' stored rows as they were (its post-hook runs no update)."""
    settlements = demo_settlements()
    history = next(s for s in settlements if s.settlement_id == "US1")
    history.order("111-9-7", "SKU-C", 1, "30.00", "-4.50", "-3.00", 4)
    unchanged = next(s for s in settlements if s.settlement_id == "US2")
    refund_day = unchanged.start + timedelta(days=6, hours=5)
    unchanged.line(
        "Refund", "ItemPrice", "Principal", "-30.00", order_id="111-9-7", sku="SKU-C", posted_at=refund_day
    )
    # A refund that states its units (1), of an order whose line arrives later with 3.
    unchanged.line(
        "Refund", "ItemPrice", "Principal", "-10.00", order_id="111-9-1", sku="SKU-C", quantity=1,
        posted_at=refund_day,
    )  # fmt: skip
    warehouse = build_warehouse(tmp_path, settlements, *SELECT, command="build")
    first = _snapshot(warehouse)
    assert _refund_quantity(first, "111-9-7") == 1
    assert _units_refunded(warehouse, "SKU-C") == [(refund_day.date(), 2)]

    # A new settlement with nothing any stored refund names: fct_refunds' post-hook updates nothing.
    unrelated = Settlement("US8", "acct-na", "Amazon.com", "USD", 5, raw_sha256="sha-US8-v1")
    unrelated.order("111-8-1", "SKU-A", 1, "20.00", "-3.00", "-2.00", 1)
    write_lake(tmp_path / "lake", [*settlements, unrelated])
    (tmp_path / "logs" / "dbt.log").unlink()
    run_dbt(tmp_path, "build", *SELECT, "--exclude", "fct_transactions")
    logged = _logged_sql(tmp_path)
    assert "full outer join" not in logged  # the bounded path
    assert "set quantity" not in logged
    second = _snapshot(warehouse)
    assert second["fct_refunds"] == first["fct_refunds"]

    # The order's second line (2 more units of SKU-C), and the stated refund's order, arrive.
    extra = _settlement_with_the_refunded_order()
    write_lake(tmp_path / "lake", [*settlements, unrelated, extra])
    (tmp_path / "logs" / "dbt.log").unlink()
    run_dbt(tmp_path, "build", *SELECT, "--exclude", "fct_transactions")
    incremental = _snapshot(warehouse)
    logged = _logged_sql(tmp_path)
    assert "full outer join" not in logged  # the bounded path
    assert "set quantity" in logged
    assert _refund_quantity(incremental, "111-9-7") == 3
    assert _refund_quantity(incremental, "111-9-1") == 1
    assert _units_refunded(warehouse, "SKU-C") == [(refund_day.date(), 4)]

    run_dbt(tmp_path, "build", "--full-refresh", *SELECT)
    assert incremental == _snapshot(warehouse)


def test_reissue_dropping_a_refunded_order_equals_a_full_refresh(tmp_path: Path, refund_build: Path) -> None:
    """A re-issue that no longer holds the order a stored refund took its units from: the refund has no units
    now, in fct_refunds and in fct_sku_daily, as a full refresh says (the full comparison path)."""
    settlements, warehouse, _, refund_day = _built_with_a_refund_of_a_later_order(tmp_path, refund_build)
    extra = _settlement_with_the_refunded_order()
    write_lake(tmp_path / "lake", [*settlements, extra])
    run_dbt(tmp_path, "build", *SELECT)
    assert _refund_quantity(_snapshot(warehouse), "111-9-7") == 2
    assert _units_refunded(warehouse, "SKU-C") == [(refund_day.date(), 2)]

    # Amazon re-issues US9 without the refunded order.
    extra.lines = [line for line in extra.lines if line["order_id"] != "111-9-7"]
    extra.raw_sha256 = "sha-US9-v2"
    write_lake(tmp_path / "lake", [*settlements, extra])
    run_dbt(tmp_path, "build", *SELECT)
    incremental = _snapshot(warehouse)
    assert _refund_quantity(incremental, "111-9-7") is None
    assert _units_refunded(warehouse, "SKU-C") == []

    run_dbt(tmp_path, "build", "--full-refresh", *SELECT)
    assert incremental == _snapshot(warehouse)
