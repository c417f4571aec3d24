"""The Celery side of the scale-out mode (README "Scale-out"): what a run needs before it submits steps, and
`acorn worker`, the process that executes them.

A run on Celery whose steps nobody takes would wait for ever, and workers in other processes cannot read a run
history in one process's SQLite files; both are refused before the run is created, exit 3, naming the fix.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import IO, Any

import click

from orchestration.account_groups import WORKER_PING_SECONDS, answering_workers
from orchestration.executor import (
    BROKER_VAR,
    CELERY,
    EMBEDDED,
    QUEUE,
    ExecutorConfigError,
    execution_run_config,
    executor_kind,
)
from orchestration.outcomes import ExitCode

# The workers that answered the last ping before a run (`acorn run` makes as many account groups as answered).
ANSWERED: list[str] = []


class ExecutorUnavailable(click.ClickException):
    """The configured executor cannot take this run: `acorn` says why and how to fix it, and exits 3."""

    exit_code = int(ExitCode.COULD_NOT_RUN)

    def __init__(self, cause: str, fix: str) -> None:
        self.fix = fix
        super().__init__(cause)

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"could not run: {self.message}\n  fix: {self.fix}", err=True)


def shown_broker(url: str) -> str:
    """The broker URL safe to print: its password replaced by *** (an unparsable one named by its setting)."""
    from orchestration.shown_urls import redacted

    return redacted(url, BROKER_VAR)


def execution_config() -> dict[str, Any]:
    """The `execution` run config of the configured executor, once it is known to be able to run the steps."""
    from acorn_cli.instance_storage import POSTGRES_URL_VAR

    try:
        kind = executor_kind()
    except ExecutorConfigError as error:
        raise ExecutorUnavailable(str(error), "see README, Scale-out") from None
    if kind == EMBEDDED:
        return execution_run_config()
    if not (os.environ.get(POSTGRES_URL_VAR) or "").strip():
        raise ExecutorUnavailable(
            "steps on Celery workers need a Dagster instance every worker reaches, and this one keeps its "
            "runs in SQLite files of one process's DAGSTER_HOME",
            f"set {POSTGRES_URL_VAR} (README, Scale-out) in this process's and every worker's environment",
        )
    names = answering_workers()
    ANSWERED[:] = names
    if not names:
        raise ExecutorUnavailable(
            f"no Celery worker answered on {shown_broker(os.environ[BROKER_VAR])} ({BROKER_VAR}) within "
            f"{WORKER_PING_SECONDS:.0f} s, so no step of the run would be executed",
            "start at least one worker with the same environment: `acorn worker` (README, Scale-out)",
        )
    return execution_run_config()


def worker_argv(name: str | None, log_level: str = "INFO") -> list[str]:
    """Celery's command line for one worker process executing one step at a time (the solo pool: the step runs
    in the worker's own process, so killing the worker kills its step and nothing else)."""
    hostname = f"{name or f'acorn-{os.getpid()}'}@{socket.gethostname()}"
    return [
        sys.executable,
        "-m",
        "celery",
        "--app",
        "orchestration.celery_app",
        "worker",
        "--queues",
        QUEUE,
        "--pool",
        "solo",
        "--hostname",
        hostname,
        "--loglevel",
        log_level,
        "--without-gossip",
        "--without-mingle",
    ]


def exec_worker(name: str | None, log_level: str) -> None:
    """Replace this process with a Celery worker (`acorn worker`); exit 3 when the configuration cannot work."""
    from acorn_cli.instance_storage import POSTGRES_URL_VAR

    try:
        executor_kind({**os.environ, "ACORN_EXECUTOR": CELERY})
    except ExecutorConfigError as error:
        raise ExecutorUnavailable(str(error), f"set {BROKER_VAR} (README, Scale-out)") from None
    if not (os.environ.get(POSTGRES_URL_VAR) or "").strip():
        raise ExecutorUnavailable(
            "a worker records its steps on the Dagster instance, which must be the runs' PostgreSQL",
            f"set {POSTGRES_URL_VAR} as for the runs (README, Scale-out)",
        )
    argv = worker_argv(name, log_level)
    os.execv(argv[0], argv)  # noqa: S606 (our own interpreter, a fixed argument list)
