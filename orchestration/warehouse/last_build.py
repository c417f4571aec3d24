"""What the published warehouse was built from, so that a build with nothing new does not re-run dbt.

A build reads only two things: the lake's published Parquet files and the dbt project. Before dbt runs, a build
fingerprints both (each published file's path, size and modification time; every project file's bytes; the
dbt command and the versions of dbt, dbt-duckdb and DuckDB). Once the warehouse is published, the build records
that fingerprint beside it (`warehouse.duckdb.last-build.json`) with the identity of the published file (inode,
size, modification time) and the result of every dbt data test of that build.

The next build compares: when the fingerprint and the published file are the same, dbt would rebuild the same
tables from the same inputs, so the build skips dbt and the copy of the warehouse, says "nothing new, warehouse
unchanged", and reports the dbt tests' results from the build that made the warehouse, each marked as such
(a WARN test that failed then still fails now; a build whose ERROR test failed was never published, so it
recorded nothing and the next build runs dbt again). The Python checks always run on the published warehouse.

A fingerprint taken before dbt reads the lake is conservative: a file published while dbt runs makes the next
build's fingerprint differ, never match. Anything else that rewrites the published file (a program writing it
read-write) changes its identity, and the next build runs dbt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import dagster as dg

from lake.read import published_files, published_pattern, scan_sql
from orchestration.paths import last_build_record_path

# Everything dbt reads from the project folder (its own target/ and logs/ are outputs).
_PROJECT_FOLDERS = ("models", "seeds", "macros", "tests", "analyses", "snapshots")
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml")
_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")


record_path = last_build_record_path  # the record of the build that made `warehouse`, beside it


def file_identity(path: Path) -> list[int]:
    """Inode, size and modification time (ns): they change whenever the file is replaced or written."""
    status = path.stat()
    return [status.st_ino, status.st_size, status.st_mtime_ns]


def inputs_fingerprint(lake: Path, datasets: Iterable[str], project_dir: Path, command: Iterable[str]) -> str:
    """A digest of everything a dbt build reads: the lake's published files, the project, the command."""
    return combined_fingerprint(
        command, project_fingerprint(project_dir), dataset_fingerprints(lake, datasets)
    )


def combined_fingerprint(command: Iterable[str], project: str, datasets: Mapping[str, str]) -> str:
    """The build's fingerprint from its parts (the command, `project_fingerprint`, `dataset_fingerprints`)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(["command", *command, "project", project, "datasets", dict(sorted(datasets.items()))],
                             default=str).encode())  # fmt: skip
    return digest.hexdigest()


def project_fingerprint(project_dir: Path) -> str:
    """A digest of the dbt project's files and of the dbt, dbt-duckdb and DuckDB versions."""
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(json.dumps(parts, default=str).encode())
        digest.update(b"\n")

    for package in _PACKAGES:
        add("package", package, package_metadata.version(package))
    project_files = [project_dir / name for name in _PROJECT_FILES]
    for folder in _PROJECT_FOLDERS:
        project_files += sorted((project_dir / folder).rglob("*"))
    for path in project_files:
        if path.is_file():
            add("project", str(path.relative_to(project_dir)), hashlib.sha256(path.read_bytes()).hexdigest())
    return digest.hexdigest()


def dataset_fingerprints(lake: Path, datasets: Iterable[str]) -> dict[str, str]:
    """{dataset: digest of its published files (path, size, modification time) and of the SQL reading them}: a
    dataset's digest changes exactly when what dbt reads of it does (scope.py builds only what reads a changed
    one)."""
    fingerprints = {}
    for dataset in sorted(datasets):
        digest = hashlib.sha256()
        # The view's SQL too: a change in how the lake is read is a change in what dbt reads.
        digest.update(scan_sql(dataset, f"'{published_pattern(lake, dataset)}'").encode())
        for path in published_files(lake, dataset):
            status = path.stat()
            digest.update(
                json.dumps([str(path.relative_to(lake)), status.st_size, status.st_mtime_ns]).encode()
            )
        fingerprints[dataset] = digest.hexdigest()
    return fingerprints


@dataclass(frozen=True)
class RecordedCheck:
    """One dbt data test's result as a build reported it to Dagster."""

    asset_key: list[str]
    check_name: str
    passed: bool
    severity: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: dg.AssetCheckResult) -> RecordedCheck:
        if result.asset_key is None:
            raise ValueError(f"dbt test result {result.check_name} has no asset key")
        return cls(
            asset_key=list(result.asset_key.path),
            check_name=str(result.check_name),
            passed=bool(result.passed),
            severity=result.severity.value,
            metadata={key: _plain(value) for key, value in (result.metadata or {}).items()},
        )

    def replayed(self, built_by: Mapping[str, Any]) -> dg.AssetCheckResult:
        """The same result, saying it comes from the build that made the published warehouse."""
        return dg.AssetCheckResult(
            asset_key=dg.AssetKey(self.asset_key),
            check_name=self.check_name,
            passed=self.passed,
            severity=dg.AssetCheckSeverity(self.severity),
            metadata={
                "evaluated_in_run": built_by["run_id"],
                "evaluated_at": built_by["built_at"],
                "note": "warehouse unchanged since that build: its dbt test result stands",
                # A result carried over by a build that did not run the test (scope.py) names the run that did.
                **self.metadata,
            },
        )


def _plain(value: Any) -> Any:
    """A metadata value as JSON: numbers, text and booleans as they are, anything else as its text."""
    raw = value.value if isinstance(value, dg.MetadataValue) else value
    if raw is None or isinstance(raw, bool | int | float | str):
        return raw
    return str(raw)


@dataclass(frozen=True)
class LastBuild:
    """The record of the build that published the warehouse."""

    fingerprint: str
    run_id: str
    built_at: str
    warehouse_identity: list[int]
    checks: list[RecordedCheck]
    # {incremental model: fingerprint of its definition} (model_definitions.py); None in a record written before
    # it existed, which makes the next build rebuild the incremental models whole.
    incremental_definitions: dict[str, str] | None = None
    # The parts of the fingerprint, so the next build can tell what changed (scope.py): the project's digest,
    # each lake dataset's and the build's settings (its dbt vars). None in a record written before them, which
    # makes the next build run every dbt node.
    project: str | None = None
    datasets: dict[str, str] | None = None
    settings: dict[str, Any] | None = None

    def describes(self, warehouse: Path, fingerprint: str) -> bool:
        """True when `warehouse` is still the file this build published, built from `fingerprint`."""
        return (
            self.fingerprint == fingerprint
            and warehouse.exists()
            and file_identity(warehouse) == self.warehouse_identity
        )


def read_last_build(warehouse: Path) -> LastBuild | None:
    """The recorded build of `warehouse`, or None when there is none or it cannot be read."""
    try:
        document = json.loads(record_path(warehouse).read_text(encoding="utf-8"))
        return LastBuild(
            fingerprint=document["fingerprint"],
            run_id=document["run_id"],
            built_at=document["built_at"],
            warehouse_identity=list(document["warehouse_identity"]),
            checks=[RecordedCheck(**check) for check in document["checks"]],
            incremental_definitions=document.get("incremental_definitions"),
            project=document.get("project"),
            datasets=document.get("datasets"),
            settings=document.get("settings"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_last_build(warehouse: Path) -> None:
    """Remove the record before the published file is replaced, so that it never describes another file."""
    record_path(warehouse).unlink(missing_ok=True)


def write_last_build(warehouse: Path, build: LastBuild) -> None:
    """Record the build that has just published `warehouse` (replaced atomically)."""
    path = record_path(warehouse)
    staged = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    staged.write_text(json.dumps(asdict(build), indent=1) + "\n", encoding="utf-8")
    os.replace(staged, path)
