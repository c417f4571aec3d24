"""The definition fingerprints that make a build rebuild its incremental models whole after a change of
definition (orchestration/warehouse/model_definitions.py), on the project's own dbt manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestration.warehouse.model_definitions import changed_definitions, incremental_definitions
from orchestration.warehouse.project import dbt_project, prepare_if_stale


def _manifest() -> dict[str, Any]:
    prepare_if_stale(dbt_project)
    return json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))


def _fingerprints(manifest: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    path = tmp_path / f"manifest-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return incremental_definitions(path)


def _readers_of(manifest: dict[str, Any], unique_id: str) -> set[str]:
    """Every node that reads `unique_id`, directly or through other nodes."""
    found: set[str] = set()
    frontier = [unique_id]
    while frontier:
        current = frontier.pop()
        for node_id, node in manifest["nodes"].items():
            if current in node.get("depends_on", {}).get("nodes", []) and node_id not in found:
                found.add(node_id)
                frontier.append(node_id)
    return found


def test_a_changed_seed_or_macro_changes_exactly_the_incremental_models_that_read_it(tmp_path: Path) -> None:
    manifest = _manifest()
    before = _fingerprints(manifest, tmp_path)
    assert "model.acorn.fct_fees" in before  # the line facts are incremental
    assert before == _fingerprints(manifest, tmp_path)  # a fingerprint is stable

    # An edited fee taxonomy: every incremental model reading it, and only those, is redefined.
    manifest["nodes"]["seed.acorn.fee_taxonomy"]["checksum"]["checksum"] = "edited"
    after_seed = _fingerprints(manifest, tmp_path)
    readers = _readers_of(manifest, "seed.acorn.fee_taxonomy")
    assert {m for m in before if before[m] != after_seed[m]} == readers & set(before)
    assert "model.acorn.fct_fees" in readers
    assert set(before) - readers, "some incremental model does not read the fee taxonomy and stays as it was"

    # A changed macro redefines the models that call it.
    macro = "macro.acorn.changed_settlements_only"
    callers = {m for m in before if macro in manifest["nodes"][m]["depends_on"]["macros"]}
    assert callers
    manifest["macros"][macro]["macro_sql"] += "\n-- changed"
    after_macro = _fingerprints(manifest, tmp_path)
    assert callers <= {m for m in before if after_seed[m] != after_macro[m]}


def test_the_models_to_rebuild_are_those_redefined_or_all_without_a_record() -> None:
    current = {"model.acorn.fct_fees": "b", "model.acorn.fct_refunds": "c"}
    assert changed_definitions({"model.acorn.fct_fees": "a", "model.acorn.fct_refunds": "c"}, current) == [
        "fct_fees"
    ]
    assert changed_definitions(dict(current), current) == []
    assert changed_definitions(None, current) == ["fct_fees", "fct_refunds"]
