"""An ERROR check that fails marks its step failed, so a run with one is never a plain green Success.

Dagster records a check's evaluation and, for a non-blocking check, still reports the step (and the run) as a
success. A data engineer who looks at the UI only when something is red would never see it. `acorn_check` is
`dg.asset_check` plus one rule: after the evaluation is recorded, a failed ERROR evaluation fails the step with
the check's numbers as the reason. A WARN check never fails its step. Blocking stays what Dagster means by it
(downstream assets wait, and are skipped on an ERROR failure); a non-blocking ERROR check fails its own step
and leaves the rest of the run to finish, so one drifted report still reaches the marts and is flagged there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

CheckFunction = Callable[..., dg.AssetCheckResult]


def failure_reason(name: str, result: dg.AssetCheckResult) -> str:
    """`<check> failed with ERROR severity: key=value, ...` from the scalar metadata (what a person acts on)."""
    scalars = []
    for key, value in (result.metadata or {}).items():
        plain = getattr(value, "value", value)
        if isinstance(plain, str | int | float) and not isinstance(plain, bool):
            scalars.append(f"{key}={plain}")
    return f"check {name} failed with ERROR severity" + (f": {', '.join(scalars[:8])}" if scalars else "")


def fail_step_on_error(name: str, function: CheckFunction) -> Callable[..., Iterator[dg.AssetCheckResult]]:
    @functools.wraps(function)
    def evaluate_then_judge(*args: Any, **kwargs: Any) -> Iterator[dg.AssetCheckResult]:
        result = function(*args, **kwargs)
        yield result  # recorded first: the evaluation and its numbers are in the UI whatever happens next
        if not result.passed and result.severity == dg.AssetCheckSeverity.ERROR:
            raise dg.Failure(description=failure_reason(name, result), allow_retries=False)

    return evaluate_then_judge


def acorn_check(*, name: str, **options: Any) -> Callable[[CheckFunction], dg.AssetChecksDefinition]:
    """`dg.asset_check(name=..., **options)` whose failed ERROR evaluation fails its step (see module doc)."""

    def decorate(function: CheckFunction) -> dg.AssetChecksDefinition:
        judged: Any = fail_step_on_error(name, function)  # Dagster takes generator check functions too
        return dg.asset_check(name=name, **options)(judged)

    return decorate


def evaluate(check: dg.AssetChecksDefinition, **resources: Any) -> dg.AssetCheckResult:
    """Invoke a check directly (tests, tools) and return its evaluation, without the step-failing rule."""
    outcome: Any = check(**resources)
    if isinstance(outcome, dg.AssetCheckResult):
        return outcome
    return next(iter(outcome))
