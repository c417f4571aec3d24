"""The dbt step yields its test results after every model's output (check_events.py): each evaluation is still
linked to its model's materialization by the same run, carries the test's metadata, and a failed ERROR test
that blocks still fails the step, as Dagster's own handling of an `AssetCheckResult` does."""

from typing import Any

import dagster as dg

from orchestration.warehouse.check_events import checks_after_assets

SPECS = [dg.AssetSpec("model_a"), dg.AssetSpec("model_b", deps=["model_a"])]
CHECKS = [
    dg.AssetCheckSpec("a_unique", asset="model_a"),
    dg.AssetCheckSpec("b_not_null", asset="model_b"),
    dg.AssetCheckSpec("b_blocking", asset="model_b", blocking=True),
]


def _dbt_like_events(*, b_blocking_passes: bool) -> list[Any]:
    """Events in dbt's order: each model's output, then its tests."""
    return [
        dg.Output(None, output_name="model_a", metadata={"dagster/row_count": 3}),
        dg.AssetCheckResult(
            asset_key="model_a", check_name="a_unique", passed=True, metadata={"unique_id": "t1"}
        ),
        dg.Output(None, output_name="model_b", metadata={"dagster/row_count": 5}),
        dg.AssetCheckResult(
            asset_key="model_b",
            check_name="b_not_null",
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"unique_id": "t2", "dagster_dbt/failed_row_count": 2},
        ),
        dg.AssetCheckResult(asset_key="model_b", check_name="b_blocking", passed=b_blocking_passes),
    ]


@dg.multi_asset(specs=SPECS, check_specs=CHECKS, config_schema={"b_blocking_passes": bool})
def models(context: dg.AssetExecutionContext) -> Any:
    events = _dbt_like_events(b_blocking_passes=context.op_execution_context.op_config["b_blocking_passes"])
    yield from checks_after_assets(context, events)


def _run(instance: dg.DagsterInstance, *, passes: bool) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [models],
        instance=instance,
        run_config={"ops": {"models": {"config": {"b_blocking_passes": passes}}}},
        raise_on_error=False,
    )


def test_each_evaluation_is_linked_to_its_models_materialization_by_the_same_run() -> None:
    with dg.instance_for_test() as instance:
        for _ in range(2):  # the second run's evaluations must not name the first run's materializations
            result = _run(instance, passes=True)
            assert result.success
            run_id = result.run_id
            # The asset index's storage ids (with SQLite storage a run's own log numbers its events apart).
            materializations = {}
            for name in ("model_a", "model_b"):
                [latest_record] = instance.fetch_materializations(dg.AssetKey(name), limit=1).records
                assert latest_record.run_id == run_id
                materializations[name] = latest_record.storage_id
            evaluations = {
                evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()
            }
            assert set(evaluations) == {"a_unique", "b_not_null", "b_blocking"}
            for name, evaluation in evaluations.items():
                target = evaluation.target_materialization_data
                assert target is not None and target.run_id == run_id, name
                assert target.storage_id == materializations[evaluation.asset_key.path[-1]], name
            assert evaluations["b_not_null"].severity == dg.AssetCheckSeverity.WARN
            assert not evaluations["b_not_null"].passed
            assert evaluations["b_not_null"].metadata["dagster_dbt/failed_row_count"].value == 2
            assert evaluations["b_blocking"].blocking
            latest = instance.get_latest_materialization_event(dg.AssetKey("model_b"))
            assert latest is not None and latest.asset_materialization is not None
            assert latest.asset_materialization.metadata["dagster/row_count"].value == 5


def test_a_failed_blocking_test_still_fails_the_step() -> None:
    with dg.instance_for_test() as instance:
        result = _run(instance, passes=False)
        assert not result.success
        evaluations = {
            evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()
        }
        assert not evaluations["b_blocking"].passed
