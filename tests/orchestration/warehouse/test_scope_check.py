"""A scoped build checks, from the events dbt's run gave Dagster, that dbt ran every node its scope must run:
a node left out would leave a stale table published. dbt writes no run_results.json in a build."""

from __future__ import annotations

import dagster as dg
import pytest

from orchestration.warehouse.assets import _check_ran_in_scope, ran_unique_ids
from orchestration.warehouse.last_build import LastBuild, RecordedCheck
from orchestration.warehouse.scope import BuildScope

MODEL = "model.acorn.fct_settlement_lines"
TEST = "test.acorn.columns_not_null_fct_settlement_lines.abc"
OBSERVED = "test.acorn.relationships_fct_fees.def"
LEFT_OUT_TEST = "test.acorn.unique_dim_date.123"


def _events() -> list[object]:
    return [
        dg.Output(None, output_name="warehouse__fct_settlement_lines", metadata={"unique_id": MODEL}),
        dg.AssetCheckResult(
            asset_key=dg.AssetKey(["warehouse", "fct_settlement_lines"]),
            check_name="columns_not_null_fct_settlement_lines",
            passed=True,
            metadata={"unique_id": dg.MetadataValue.text(TEST), "status": "pass"},
        ),
        dg.AssetObservation(
            asset_key=dg.AssetKey(["warehouse", "fct_fees"]), metadata={"unique_id": OBSERVED}
        ),
        dg.AssetObservation(asset_key=dg.AssetKey(["warehouse", "fct_fees"]), metadata={"other": 1}),
    ]


def _last() -> LastBuild:
    check = RecordedCheck(
        asset_key=["warehouse", "dim_date"],
        check_name="unique_dim_date",
        passed=True,
        severity="ERROR",
        metadata={"unique_id": LEFT_OUT_TEST},
    )
    return LastBuild(
        fingerprint="f",
        run_id="run-1",
        built_at="2026-12-01T00:00:00+00:00",
        warehouse_identity=[],
        checks=[check],
    )


def test_the_nodes_a_build_ran_are_read_from_its_events() -> None:
    assert ran_unique_ids(_events()) == {MODEL, TEST, OBSERVED}


def test_a_scoped_build_whose_dbt_left_out_a_node_to_run_fails() -> None:
    scope = BuildScope(reason="r", everything=False, run=frozenset({MODEL, TEST, OBSERVED}),
                       left_out=frozenset({LEFT_OUT_TEST}))  # fmt: skip
    [carried] = _check_ran_in_scope(_events(), scope, _last()) or []
    assert carried.check_name == "unique_dim_date"
    assert carried.metadata["evaluated_in_run"] == "run-1"
    missing = BuildScope(reason="r", everything=False, run=frozenset({MODEL, TEST, "model.acorn.fct_fees"}))
    with pytest.raises(RuntimeError, match=r"dbt did not run 1 nodes .*model\.acorn\.fct_fees"):
        _check_ran_in_scope(_events(), missing, _last())
    # A build of everything has nothing to carry and nothing to check.
    assert _check_ran_in_scope([], BuildScope(reason="all", everything=True), _last()) is None
