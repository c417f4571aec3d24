"""The checks of the last build, as its Dagster run recorded them (dbt tests and ACORN's Python checks).

Read from the Dagster instance of DAGSTER_HOME (the same one `acorn` and `make ui` use), never written: the
newest finished run that evaluated any check is the last build the dashboard reports on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation


@dataclass(frozen=True)
class Check:
    name: str
    asset: str
    passed: bool
    severity: str  # ERROR or WARN
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LastRunChecks:
    run_id: str
    job_name: str
    status: str
    ended_at: datetime | None  # UTC
    checks: list[Check]

    def for_account(self, account: str | None) -> list[Check]:
        """The checks about `account` (those naming no account concern every account)."""
        if account is None:
            return list(self.checks)
        return [
            c for c in self.checks if not accounts_named(c.numbers) or account in accounts_named(c.numbers)
        ]

    @property
    def failed(self) -> list[Check]:
        return sorted((c for c in self.checks if not c.passed), key=lambda c: (c.severity, c.name, c.asset))


def _plain(value: Any) -> Any:
    inner = getattr(value, "value", getattr(value, "data", value))
    if isinstance(inner, bool | int | float | str | dict | list) or inner is None:
        return inner
    return str(inner)


def accounts_named(numbers: dict[str, Any]) -> set[str]:
    """The account ids a check's numbers name: `account_id`, or the `account_id` of the rows it lists."""
    found = {numbers["account_id"]} if isinstance(numbers.get("account_id"), str) else set()
    for value in numbers.values():
        if isinstance(value, list):
            found |= {row["account_id"] for row in value if isinstance(row, dict) and "account_id" in row}
    return found


def last_run_checks(*, runs_to_search: int = 25) -> LastRunChecks | None:
    """The checks of the newest finished run that evaluated any; None without a Dagster home or such a run."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not (Path(home) / "dagster.yaml").exists():
        return None
    import dagster as dg

    finished = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE}
    with dg.DagsterInstance.get() as instance:
        for record in instance.get_run_records(limit=runs_to_search):
            run = record.dagster_run
            if run.status not in finished:
                continue
            evaluations = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            checks = []
            for entry in evaluations:
                event = entry.dagster_event
                if event is None or event.event_specific_data is None:
                    continue
                data = cast("AssetCheckEvaluation", event.event_specific_data)
                checks.append(
                    Check(
                        name=data.check_name,
                        asset=data.asset_key.to_user_string(),
                        passed=bool(data.passed),
                        severity=data.severity.value,
                        numbers={k: _plain(v) for k, v in data.metadata.items()},
                    )
                )
            if checks:
                ended = record.end_time
                return LastRunChecks(
                    run.run_id,
                    run.job_name,
                    run.status.value,
                    datetime.fromtimestamp(ended, UTC) if ended else None,
                    checks,
                )
    return None
