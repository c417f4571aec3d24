"""Which dbt nodes a build runs: only those that read something that changed since the published warehouse was
built, so that a daily build after one new settlement does not rebuild and re-test the Finances and vendor
models, nor reload the seeds.

Why it is sound: a dbt node's result is a function of what it reads: the lake datasets of its sources, the
models and seeds upstream of it, the dbt project (its SQL, macros, config) and the build's vars (accounts,
books settings, the business day). The published warehouse's record (last_build.py) says from which inputs
every node of it was built, per part: the project's digest, each lake dataset's digest and the vars. A build
whose project is the same runs exactly the nodes downstream of (a) the sources of the datasets whose digest
changed, (b) the nodes whose SQL or macros read a var whose value changed, and (c) when the business day
changed, the nodes whose SQL or macros read the clock. Every other node would compute what it already holds
(its inputs are those it was built from), so it is not run: its asset is reported unchanged and its data tests
with the result recorded by the build that ran them. By induction every node of the published warehouse is
then as a build of everything from these inputs would make it; `tests/orchestration/warehouse/test_scope.py`
builds it both ways and compares every table.

Everything runs (a full build) when there is no usable record, or when the project changed (an edited model
rebuilds, with the models and tests downstream of it and whatever else the edit touched: the whole project is
cheaper to reason about than a dbt state comparison), or when a changed var is read by the project's YAML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.warehouse.last_build import LastBuild

# `var('name')` / `var("name", default)` in a node's SQL or in a macro it calls.
_VAR_CALL = re.compile(r"""\bvar\(\s*['"](\w+)['"]""")
# SQL that reads the clock: its result changes with the day even when nothing it reads does.
_READS_CLOCK = re.compile(r"\b(current_date|current_timestamp|now\s*\(|today\s*\(|get_current_time|run_started_at)",
                          re.IGNORECASE)  # fmt: skip
# The var that carries the business day (inputs.py): when it changes, the clock-reading nodes rebuild too.
BUSINESS_DAY_VAR = "vendor_as_of_date"
# The node kinds a build runs and a selection can leave out (unit tests never run in a build).
_BUILT_TYPES = ("model", "seed", "snapshot", "test")


@dataclass(frozen=True)
class BuildScope:
    """The nodes a build runs. `everything` with the reason, or `run` (unique ids) and what the rest are."""

    reason: str
    everything: bool
    run: frozenset[str] = frozenset()
    left_out: frozenset[str] = frozenset()

    def exclude_args(self, manifest: Mapping[str, Any]) -> list[str]:
        """dbt's `--exclude` for the nodes left out, by their full `fqn:` (a selector matching exactly them), for
        a run of the whole build job (which selects every node). A scoped run (scoped_run.py) needs none: its
        `--select`, dagster-dbt's, names the models to run and the tests of models it does not run, and dbt's
        default (eager) indirect selection adds only tests that read a selected model, which the scope runs too
        (it runs every node downstream of one it runs). dbt matches each selector against every node, so the
        left-out tests' selectors cost a daily build about 0.3-0.5 s of dbt's start for nothing."""
        if self.everything or not self.left_out:
            return []
        nodes = manifest["nodes"]
        selectors = sorted(f"fqn:{'.'.join(nodes[unique_id]['fqn'])}" for unique_id in self.left_out)
        # One argument, space-separated: dagster-dbt takes the one value after `--exclude` (and dbt splits it).
        return ["--exclude", " ".join(selectors)]


def everything(reason: str) -> BuildScope:
    return BuildScope(reason=reason, everything=True)


def _macro_closure(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    """The SQL of a node and of every macro it calls, recursively."""
    macros = manifest.get("macros", {})
    texts = [node.get("raw_code", "")]
    seen: set[str] = set()
    pending = list(node.get("depends_on", {}).get("macros", []))
    while pending:
        unique_id = pending.pop()
        if unique_id in seen or unique_id not in macros:
            continue
        seen.add(unique_id)
        texts.append(macros[unique_id].get("macro_sql", ""))
        pending += macros[unique_id].get("depends_on", {}).get("macros", [])
    return "\n".join(texts)


def _yaml_reads_var(project_dir: Path, names: Iterable[str]) -> bool:
    wanted = set(names)
    for path in [project_dir / "dbt_project.yml", *sorted(project_dir.rglob("*.yml"))]:
        if "target" in path.relative_to(project_dir).parts or path.name == "profiles.yml":
            continue
        if path.is_file() and wanted & set(_VAR_CALL.findall(path.read_text(encoding="utf-8"))):
            return True
    return False


def changed_keys(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    return sorted(key for key in set(before) | set(now) if before.get(key) != now.get(key))


def build_scope(
    manifest: Mapping[str, Any],
    last: LastBuild | None,
    *,
    project: str,
    datasets: Mapping[str, str],
    settings: Mapping[str, Any],
    project_dir: Path,
) -> BuildScope:
    """The nodes a build from these inputs must run, given the record of the build that made the warehouse."""
    if last is None or last.project is None or last.datasets is None or last.settings is None:
        return everything("no record of the inputs the warehouse was built from")
    if last.project != project:
        return everything("the dbt project changed")
    changed_datasets = set(changed_keys(last.datasets, datasets))
    # As the record holds them (JSON): a tuple and the list it was recorded as are the same value.
    changed_vars = set(changed_keys(last.settings, json.loads(json.dumps(settings))))
    if changed_vars and _yaml_reads_var(project_dir, changed_vars):
        return everything(f"vars read by the project's YAML changed ({', '.join(sorted(changed_vars))})")
    nodes: Mapping[str, Any] = manifest["nodes"]
    built = {unique_id for unique_id, node in nodes.items() if node.get("resource_type") in _BUILT_TYPES}
    roots = {
        unique_id
        for unique_id, source in manifest.get("sources", {}).items()
        if source.get("identifier", source.get("name")) in changed_datasets
        or source.get("name") in changed_datasets
    }
    if changed_vars:
        for unique_id in built:
            sql = _macro_closure(manifest, nodes[unique_id])
            if changed_vars & set(_VAR_CALL.findall(sql)) or (
                BUSINESS_DAY_VAR in changed_vars and _READS_CLOCK.search(sql)
            ):
                roots.add(unique_id)
    children: Mapping[str, list[str]] = manifest["child_map"]
    run: set[str] = set()
    pending = list(roots)
    while pending:
        unique_id = pending.pop()
        if unique_id in built:
            run.add(unique_id)
        for child in children.get(unique_id, []):
            if child not in run and child in built:
                run.add(child)
                pending.append(child)
    left_out = built - run
    # dbt's fqn selector also matches the nodes under a prefix: a left-out fqn must not prefix a node to run.
    run_fqns = [tuple(nodes[unique_id]["fqn"]) for unique_id in run]
    for unique_id in left_out:
        fqn = tuple(nodes[unique_id]["fqn"])
        if any(other[: len(fqn)] == fqn for other in run_fqns):
            return everything(f"{unique_id}'s fqn selects a node that must run")
    reason = (
        f"changed since the warehouse was built: lake datasets {', '.join(sorted(changed_datasets)) or 'none'}; "
        f"vars {', '.join(sorted(changed_vars)) or 'none'}"
    )
    return BuildScope(reason=reason, everything=False, run=frozenset(run), left_out=frozenset(left_out))
