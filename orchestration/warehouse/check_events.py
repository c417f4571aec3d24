"""dbt's test results yielded after every model's output, each linked to its model's materialization at once.

Dagster links a yielded `AssetCheckResult` to the latest materialization of its asset (the check evaluation's
`target_materialization_data`, which the UI shows as "evaluated against this materialization"). It finds it in
the step's cache of asset records, which it clears for an asset each time the step materializes it: every dbt
test that follows its model's output costs a query of the asset records of that one asset, a new SQLite
connection and SQLAlchemy engine each with Dagster's SQLite storage (about 30 in a daily build, 70 in a full
one). The dbt step yields its events only once dbt has exited (metadata.py), so it may as well yield every
model's output first (in dbt's order, which Dagster needs) and then every test result, linked to its model's
materialization fetched for all the models in one query: the same evaluations, linked to the same
materializations (this run's, for a model it rebuilt), without the per-model queries.

A result Dagster would not record as this step's check (not selected: dagster-dbt reports such a test as an
observation anyway) is yielded unchanged, for Dagster to handle as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

# Dagster fetches asset records 100 at a time (GET_ASSET_RECORDS_FOR_DATA_VERSION_BATCH_SIZE).
_BATCH = 100


def checks_after_assets(context: dg.AssetExecutionContext, events: Iterable[Any]) -> Iterator[Any]:
    """`events` (dagster-dbt's, in dbt's order) with every `AssetCheckResult` moved after all the others and
    yielded as the `Output` and `AssetCheckEvaluation` Dagster would make of it, linked to the latest
    materialization of its asset once all of this step's outputs are recorded."""
    assets = context.assets_def
    selected = context.selected_asset_check_keys
    checks: list[dg.AssetCheckResult] = []
    for event in events:
        if isinstance(event, dg.AssetCheckResult) and event.asset_key is not None:
            checks.append(event)
        else:
            yield event
    if not checks:
        return
    output_names = {spec.key: name for name, spec in assets.check_specs_by_output_name.items()}
    targets = latest_materializations(
        context.instance, {check.asset_key for check in checks if check.asset_key}
    )
    for result in checks:
        key = dg.AssetCheckKey(result.asset_key, str(result.check_name)) if result.asset_key else None
        if key is None or key not in selected or key not in output_names:
            yield result  # Dagster's own path (it warns about a check it does not expect)
            continue
        yield dg.Output(None, output_name=output_names[key])
        yield dg.AssetCheckEvaluation(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=result.passed,
            metadata=result.metadata,
            target_materialization_data=targets.get(key.asset_key),
            severity=result.severity,
            description=result.description,
            blocking=assets.get_spec_for_check_key(key).blocking,
        )


def latest_materializations(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]
) -> dict[dg.AssetKey, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of each of `keys` that has one, as a check evaluation's target (what
    `AssetCheckResult.to_asset_check_evaluation` finds for an unpartitioned asset), in one query per 100."""
    wanted = sorted(set(keys), key=lambda key: key.to_user_string())
    targets = {}
    for start in range(0, len(wanted), _BATCH):
        for record in instance.get_asset_records(wanted[start : start + _BATCH]):
            last = record.asset_entry.last_materialization_record
            if last is not None:
                targets[record.asset_entry.asset_key] = AssetCheckEvaluationTargetMaterializationData(
                    run_id=last.run_id, storage_id=last.storage_id, timestamp=last.timestamp
                )
    return targets
