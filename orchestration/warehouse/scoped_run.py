"""A build run that selects only the dbt nodes that will run, so the others cost no Dagster events.

A daily build runs only the dbt nodes that read what changed (scope.py). In a run of the whole build job the
others are still reported: each left-out model gets an output and a materialization marked unchanged, each
left-out data test its recorded result, and each of them its planned event first, about 390 events that each
cost a write to the run history. `acorn build` instead creates its run with only the nodes that will run
selected (a subset of the build job, as the UI makes when a person selects some assets), tagged
`SCOPED_BUILD_TAG`: the left-out models and tests are then not in the run at all. Their latest materialization
and check evaluation in Dagster (the asset catalog, each check's history) stay those of the build that made
them, which is true: the published warehouse holds what that build made of them. The command reports them from
the build record (how many nodes were left out, and each left-out test's result with the run that evaluated it).

The dbt step of such a run decides its scope again under the writer lock (assets.py): when it is not exactly
the run's selection (the lake or the project changed after the run was created) it fails without publishing,
so the warehouse is never left with a stale node the command called unchanged. A subset run without the tag
(a person's selection in the UI) builds what it selects and records nothing, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration.paths import DBT_PROJECT_DIR
from orchestration.warehouse.inputs import BuildInputs
from orchestration.warehouse.last_build import LastBuild, file_identity, read_last_build
from orchestration.warehouse.model_definitions import changed_definitions
from orchestration.warehouse.scope import BuildScope, build_scope, everything

if TYPE_CHECKING:
    import dagster as dg

# On a run of the build job created with only the dbt nodes that will run selected: the run it must be.
SCOPED_BUILD_TAG = "acorn/scoped_build"
# dagster-dbt's metadata key for a dbt node's unique id, on each asset spec and check spec of the dbt assets.
DBT_UNIQUE_ID = "dagster_dbt/unique_id"
# dagster-dbt runs a selection of more dbt resources than this from a temporary copy of the whole project
# (dagster_dbt.asset_utils._SELECTION_ARGS_THRESHOLD, 200): no partial parse then. A scope selecting more runs
# the whole job instead (its left-out nodes reported as before).
MAX_SELECTED_RESOURCES = 150


def planned_scope(
    warehouse: Path,
    inputs: BuildInputs,
    manifest: Mapping[str, Any],
    *,
    redefined: bool,
    check_unique_ids: Iterable[str],
) -> tuple[BuildScope, LastBuild | None]:
    """The dbt nodes a build from `inputs` runs (scope.py), and the record of the build whose results the others
    keep. Every node runs when incremental models were `redefined`, without a record of the published file, or
    when a left-out data test (of `check_unique_ids`: the dbt tests modelled as asset checks) has no recorded
    result to report."""
    if redefined:
        return everything("incremental models redefined"), None
    last = read_last_build(warehouse) if warehouse.exists() else None
    if last is not None and last.warehouse_identity != file_identity(warehouse):
        last = None  # a record of another file
    scope = build_scope(
        manifest,
        last,
        project=inputs.project,
        datasets=inputs.datasets,
        settings=inputs.settings,
        project_dir=DBT_PROJECT_DIR,
    )
    if scope.everything or last is None:
        return scope, last
    recorded = {check.metadata.get("unique_id") for check in last.checks}
    for unique_id in sorted(set(check_unique_ids) & scope.left_out):
        if unique_id not in recorded:
            return everything(f"no recorded result of data test {unique_id}"), last
    return scope, last


@dataclass(frozen=True)
class ScopedSelection:
    """The dbt assets' keys and check keys of the nodes a scope runs, and of those it leaves out."""

    assets: frozenset[dg.AssetKey]
    checks: frozenset[dg.AssetCheckKey]
    left_out_assets: frozenset[dg.AssetKey]
    left_out_checks: frozenset[dg.AssetCheckKey]

    @property
    def resources(self) -> int:
        """About how many dbt resources dagster-dbt names in its `--select` for this selection: the models and
        seeds, and the tests on models not selected."""
        return len(self.assets) + len({key for key in self.checks if key.asset_key not in self.assets})


def scoped_selection(assets_def: dg.AssetsDefinition, scope: BuildScope) -> ScopedSelection:
    """Which of the dbt multi-asset's assets and checks (all of them, whatever a run selects) the scope runs."""
    assets: set[dg.AssetKey] = set()
    left_out_assets: set[dg.AssetKey] = set()
    checks: set[dg.AssetCheckKey] = set()
    left_out_checks: set[dg.AssetCheckKey] = set()
    for key in assets_def.node_keys_by_output_name.values():
        unique_id = assets_def.get_asset_spec(key).metadata.get(DBT_UNIQUE_ID)
        (left_out_assets if unique_id in scope.left_out else assets).add(key)
    for spec in assets_def.node_check_specs_by_output_name.values():
        unique_id = (spec.metadata or {}).get(DBT_UNIQUE_ID)
        (left_out_checks if unique_id in scope.left_out else checks).add(spec.key)
    return ScopedSelection(
        frozenset(assets), frozenset(checks), frozenset(left_out_assets), frozenset(left_out_checks)
    )


def check_unique_ids(assets_def: dg.AssetsDefinition) -> set[str]:
    """The dbt unique ids of the data tests the multi-asset models as asset checks."""
    return {
        str((spec.metadata or {}).get(DBT_UNIQUE_ID))
        for spec in assets_def.node_check_specs_by_output_name.values()
    }


def redefined_since_last_build(warehouse: Path, definitions: dict[str, str]) -> list[str]:
    """The incremental models to rebuild whole: those whose definition differs from the one the published
    warehouse was built with (all of them when its record is missing or describes another file); none when
    there is no warehouse yet (the first build builds every model whole anyway)."""
    if not warehouse.exists():
        return []
    last = read_last_build(warehouse)
    recorded = (
        last.incremental_definitions if last and last.warehouse_identity == file_identity(warehouse) else None
    )
    return changed_definitions(recorded, definitions)


def manifest_of(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result
