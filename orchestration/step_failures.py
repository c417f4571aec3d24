"""A failed step of a Dagster run as ACORN says it: `step: Class: message`, the deepest cause's class and its own
message, not Dagster's wrapper (which says only which op failed). `acorn run` reports it (acorn_cli/runs.py), and
the scheduled build's sensor names it in its skip reason (orchestration/scheduled_groups.py `failure_headline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

# Error classes (anywhere in a failed step's chain of causes) that mean "could not run": exit code 3
# (orchestration.outcomes.ExitCode).
COULD_NOT_RUN_ERRORS = frozenset(
    {
        "CouldNotRun",
        "WarehouseLocked",
        "ConfigError",
        "CredentialsError",
        "LwaError",
        "SpApiError",
        "SpApiThrottledError",
        "SpApiServerError",
        "DocumentDownloadError",
        "DagsterInvalidConfigError",
        "DagsterResourceFunctionError",
        "ConnectError",
        "ConnectTimeout",
        "ValidationError",
    }
)


@dataclass(frozen=True)
class StepFailure:
    step_key: str
    message: str  # the deepest cause's message: what went wrong, not Dagster's wrapper
    error_classes: tuple[str, ...]  # every class in the chain of causes, outermost first
    # Of a step over several accounts (AccountsFailed in the chain): which accounts failed and which landed.
    accounts: str | None = None

    @property
    def could_not_run(self) -> bool:
        return any(name in COULD_NOT_RUN_ERRORS for name in self.error_classes)

    def headline(self, lines: int = 6, *, accounts: bool = True) -> str:
        """`step: Class: message` (the deepest named class), the message cut to `lines` lines; after the
        accounts' line when `accounts` and the step ran over several."""
        message = (
            f"{self.accounts}\n{self.message}" if accounts and self.accounts is not None else self.message
        )
        text = "\n".join(message.strip().splitlines()[:lines])
        return f"{self.step_key}: {self.error_classes[-1] if self.error_classes else 'error'}: {text}"


def step_failure(event: dg.DagsterEvent) -> StepFailure:
    """The StepFailure a STEP_FAILURE event records: its chain of causes walked to the
    deepest one."""
    data = event.step_failure_data
    error = data.error if data is not None else None
    classes: list[str] = []
    deepest = error
    accounts = None
    while error is not None:
        classes.append(error.cls_name or "")
        if error.cls_name == "AccountsFailed":
            accounts = error
        deepest = error
        error = error.cause or error.context
    message = _own_message(deepest) if deepest is not None else "failed"
    return StepFailure(
        event.step_key or "run",
        message.strip(),
        tuple(c for c in classes if c),
        _own_message(accounts) if accounts is not None else None,
    )


def _own_message(error: Any) -> str:
    """An error's message without its class's name ("dagster._core.definitions.events.Failure: text" -> "text")."""
    message = str(error.message).strip()
    if error.cls_name:
        message = re.sub(rf"^[\w.]*{re.escape(error.cls_name + ': ')}", "", message)
    return message.strip()
