"""How a run ended, as the `acorn` commands report it (exit codes) and Dagster shows it (run status).

Exceptions of the `CouldNotRun` family mean the run could not do its work at all (exit code 3): a lock held by
another writer, a config that does not load, credentials Amazon refuses, Amazon unreachable after retries. The
CLI recognises them by class name anywhere in a failed step's error chain, so raise (or chain) them from the
cause: `raise WarehouseLocked(...) from error`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit codes of `acorn demo`, `acorn build`, `acorn import` and `acorn run` (README, "Exit codes")."""

    OK = 0  # everything landed, every ERROR check passed
    DATA_PROBLEM = 1  # a file was quarantined or rejected, or an ERROR check failed
    USAGE = 2  # the command line itself was wrong (click's own code for usage errors)
    COULD_NOT_RUN = 3  # a lock held, bad config, credentials refused, Amazon unreachable after retries


# Metadata key on every model of a build that found nothing new (orchestration/warehouse/assets.py): its value is
# the run that built the published warehouse. The CLI reads it to say "nothing new, warehouse unchanged".
WAREHOUSE_UNCHANGED_KEY = "acorn/warehouse_unchanged_since_run"
# Metadata key on a model a build did not rebuild because nothing it reads changed, while dbt ran for others
# (orchestration/warehouse/scope.py): its value is the run whose build of it stands.
MODEL_UNCHANGED_KEY = "acorn/model_unchanged_since_run"


class CouldNotRun(Exception):
    """The run could not do its work; the message says why and what to do."""


class WarehouseLocked(CouldNotRun):
    """Another process is writing the warehouse (or holds a write lock on it)."""
