"""Run ACORN's Dagster jobs in this process, on the instance in DAGSTER_HOME, so every run shows up in `make ui`."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg


@dataclass(frozen=True)
class CheckReport:
    name: str
    asset: str
    passed: bool
    severity: str
    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "asset": self.asset,
            "passed": self.passed,
            "severity": self.severity,
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class RunReport:
    run_id: str
    success: bool
    checks: list[CheckReport]
    materializations: dict[str, dict[str, Any]]
    failure: str | None


def run_log_path() -> Path:
    """Where the console output of the last non-verbose run goes (dbt's and Dagster's step logs)."""
    return Path(os.environ["DAGSTER_HOME"]) / "logs" / "last_run.log"


def run_job(job_name: str, run_config: dict[str, Any] | None = None, *, verbose: bool = False) -> RunReport:
    from orchestration.definitions import defs

    config: dict[str, Any] = dict(run_config or {})
    config.setdefault("loggers", {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}})
    job = defs.resolve_job_def(job_name)
    log_path = run_log_path()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if not verbose:
            # The full step logs stay available (here and in the UI) without burying the summary.
            log_file = stack.enter_context(log_path.open("w", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log_file))
            stack.enter_context(contextlib.redirect_stderr(log_file))
        instance = stack.enter_context(dg.DagsterInstance.get())
        result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
        checks = [
            CheckReport(
                name=evaluation.check_name,
                asset=evaluation.asset_key.to_user_string(),
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                metadata={key: _plain(value) for key, value in evaluation.metadata.items()},
            )
            for evaluation in result.get_asset_check_evaluations()
        ]
        materializations: dict[str, dict[str, Any]] = {}
        for event in result.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            if materialization is None:
                continue
            materializations[materialization.asset_key.to_user_string()] = {
                key: _plain(value) for key, value in materialization.metadata.items()
            }
        failure = None
        if not result.success:
            failures = [event for event in result.all_events if event.is_step_failure]
            failure = "; ".join(_failure_text(event) for event in failures) or "run failed"
        return RunReport(result.run_id, result.success, checks, materializations, failure)


def _failure_text(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data is None or data.error is None:
        return f"{event.step_key}: failed"
    return f"{event.step_key}: {data.error.message.strip()}"


def _plain(value: Any) -> Any:
    """Dagster metadata values as plain JSON-able Python."""
    inner = getattr(value, "value", value)
    if isinstance(inner, dict | list | str | int | float | bool) or inner is None:
        return inner
    return str(inner)
