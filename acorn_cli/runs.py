"""Run ACORN's Dagster jobs as first-class runs of the workspace's code location, and say how they ended.

A run started by `acorn` is created exactly as the UI creates one: against the code location that
`workspace.yaml` declares (same location and repository names), so it carries the repository tag and shows on
its job's page, in the Overview timeline and in each asset's history. It then executes in this process (the
in-process executor, as `execute_in_process` did), so the command can stream its progress and wait for it
without a daemon or a code server.

With `ACORN_EXECUTOR=celery` the steps are executed by Celery workers instead (acorn_cli/workers.py): this
process then only submits them and records their events, as the UI's run worker would.

How a run ended becomes an exit code (`orchestration.outcomes.ExitCode`): 3 when it could not do its work (a
lock held, bad config, credentials refused, Amazon unreachable, or any step failure no data problem explains),
1 when it ran but a file was refused or an ERROR check failed, 0 otherwise.

Before its run starts, `run_job` clears what interrupted runs left: runs of this instance that a killed `acorn`
process left STARTED (or STARTING, NOT_STARTED) are marked failed, naming the process that is gone (every run
`acorn` creates is tagged with its pid and host, `acorn/pid`, `acorn/host`: orchestration/interrupted_runs.py),
and the data dir's leftovers are finished or removed (transforms/recovery.py). Each is said on stderr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import dagster as dg

from acorn_cli.environment import dagster_instance
from orchestration.account_groups import RunSubset, account_groups, daily_parts
from orchestration.interrupted_runs import (
    COMMAND_TAG,
    fail_dead_runs,
    process_tags,
)
from orchestration.outcomes import ExitCode

if TYPE_CHECKING:
    from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
from orchestration.paths import REPO_ROOT
from orchestration.step_failures import StepFailure, step_failure

WORKSPACE_FILE = REPO_ROOT / "workspace.yaml"
OUTCOME_TAG = "acorn/outcome"
LAKE_SETTLEMENT_LINES = "lake/settlement_lines"
REFUSED_STATUSES = ("quarantined", "rejected")


@dataclass(frozen=True)
class CheckReport:
    name: str
    asset: str
    passed: bool
    severity: str
    metadata: dict[str, Any]
    step_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "asset": self.asset,
            "passed": self.passed,
            "severity": self.severity,
            "metadata": self.metadata,
        }


@dataclass
class RunReport:
    run_id: str
    job_name: str
    dagster_success: bool
    checks: list[CheckReport]
    materializations: dict[str, dict[str, Any]]
    failures: list[StepFailure]
    log_path: Path | None = None
    extra_problems: list[str] = field(default_factory=list)  # e.g. silence alerts added by `acorn run`
    # Checks the data is known to fail (the demo's deliberate anomalies): shown, but not a problem.
    expected_failures: set[str] = field(default_factory=set)
    # The runs this report sums up, each with its own report (`acorn run` on Celery: one run per group of
    # accounts, then the build); empty for a report of one run.
    parts: list[RunReport] = field(default_factory=list)
    # Whether the last of `parts` is the build run (False when the build did not start).
    built: bool = True
    # The `acorn/outcome` tag already on the run (`run_job(..., tag_outcome=True)`), which `record_outcome` then
    # leaves as it is unless the outcome changed since.
    tagged_outcome: str | None = None

    @property
    def failed_error_checks(self) -> list[CheckReport]:
        """Failed ERROR checks that are problems (the expected ones left out)."""
        return [c for c in self._failed_error_checks if c.name not in self.expected_failures]

    @property
    def _failed_error_checks(self) -> list[CheckReport]:
        return [c for c in self.checks if not c.passed and c.severity == "ERROR"]

    @property
    def refused_files(self) -> list[dict[str, Any]]:
        metadata = self.materializations.get(LAKE_SETTLEMENT_LINES) or {}
        outcomes = metadata.get("outcomes") or []
        return [o for o in outcomes if isinstance(o, dict) and o.get("status") in REFUSED_STATUSES]

    @property
    def unexplained_failures(self) -> list[StepFailure]:
        """Step failures that no failed ERROR check of the same step accounts for."""
        explained_steps = {c.step_key for c in self._failed_error_checks}
        return [f for f in self.failures if f.could_not_run or f.step_key not in explained_steps]

    @property
    def exit_code(self) -> ExitCode:
        if self.unexplained_failures or (not self.dagster_success and not self.failures):
            return ExitCode.COULD_NOT_RUN
        if self.failed_error_checks or self.refused_files or self.extra_problems:
            return ExitCode.DATA_PROBLEM
        return ExitCode.OK

    @property
    def success(self) -> bool:
        return self.exit_code == ExitCode.OK

    @property
    def outcome(self) -> str:
        return {0: "ok", 1: "data_problem", 3: "could_not_run"}[int(self.exit_code)]

    def problems(self) -> list[str]:
        """One line per thing that went wrong, each naming its cause."""
        lines = [f"could not run: {f.headline()}" for f in self.unexplained_failures]
        if not self.dagster_success and not self.failures:
            lines.append("could not run: the run failed before any step started (see the log)")
        lines += [
            f"{f.get('status')}: {f.get('file')}: {f.get('message') or ''}".rstrip()
            for f in self.refused_files
        ]
        lines += [f"ERROR check failed: {c.name} on {c.asset}" for c in self.failed_error_checks]
        lines += self.extra_problems
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.job_name,
            "success": self.success,
            "exit_code": int(self.exit_code),
            "outcome": self.outcome,
            "problems": self.problems(),
            "failure": "; ".join(f.headline(2) for f in self.unexplained_failures) or None,
            "checks": [check.to_json() for check in self.checks],
            **({"runs": [part.run_id for part in self.parts]} if self.parts else {}),
            **({"build_run": self.run_id if self.built else None} if self.parts else {}),
        }


def run_log_path() -> Path:
    """Where the console output of the last non-verbose run goes (dbt's and Dagster's step logs)."""
    return Path(os.environ["DAGSTER_HOME"]) / "logs" / "last_run.log"


# The module that defines the import job alone (no dbt models, no other domain): what `acorn import` loads.
IMPORT_JOB = "settlement_import"
IMPORT_DEFINITIONS_MODULE = "orchestration.import_definitions"


@contextlib.contextmanager
def _code_location(instance: dg.DagsterInstance, job_name: str | None = None) -> Iterator[Any]:
    """The workspace's code location, loaded in this process under the name the webserver gives it.

    For the import job's run with steps in this process, from the module that defines that job alone: the same
    job (snapshot and plan, tests/orchestration/test_import_definitions.py), the same location and repository
    names, so the run is the one the UI would create; without the dbt models built from the manifest and the
    other domains' modules, which cost every import about 0.3 CPU s of start-up. Steps on Celery workers load
    the job from the workspace's module, as before."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    from orchestration.executor import steps_on_celery

    [origin] = location_origins_from_yaml_paths([str(WORKSPACE_FILE)])
    target = origin.loadable_target_origin
    if job_name == IMPORT_JOB and not steps_on_celery():
        target = target._replace(module_name=IMPORT_DEFINITIONS_MODULE, attribute=None)
    in_process = InProcessCodeLocationOrigin(target, location_name=origin.location_name)
    with in_process.create_location(instance) as location:
        yield location


def _create_run(
    instance: dg.DagsterInstance,
    location: Any,
    job_name: str,
    run_config: dict[str, Any],
    tags: dict[str, str],
    subset: RunSubset | None = None,
) -> Any:
    from dagster._core.definitions.selector import JobSubsetSelector

    [repository] = location.get_repositories().values()
    if subset is None:
        remote_job = repository.get_full_job(job_name)
    else:
        remote_job = location.get_job(
            JobSubsetSelector(
                location_name=location.name,
                repository_name=repository.name,
                job_name=job_name,
                op_selection=None,
                asset_selection=subset.assets,
                asset_check_selection=subset.checks,
            )
        )
    plan = location.get_execution_plan(
        remote_job, run_config, step_keys_to_execute=None, known_state=None, instance=instance
    )
    return instance.create_run(
        job_name=remote_job.name,
        run_id=None,
        run_config=run_config,
        resolved_op_selection=None,
        step_keys_to_execute=None,
        op_selection=None,
        status=None,
        root_run_id=None,
        parent_run_id=None,
        tags={**remote_job.tags, **tags, **(subset.tags if subset else {}), **process_tags()},
        job_snapshot=remote_job.job_snapshot,
        execution_plan_snapshot=plan.execution_plan_snapshot,
        parent_job_snapshot=remote_job.parent_job_snapshot,
        remote_job_origin=remote_job.get_remote_origin(),
        job_code_origin=remote_job.get_python_origin(),
        asset_selection=None if subset is None else subset.assets,
        asset_check_selection=None if subset is None else subset.checks,
        asset_graph=repository.asset_graph,
    )


@contextlib.contextmanager
def _session(
    verbose: bool, job_name: str | None = None
) -> Iterator[tuple[dg.DagsterInstance, Any, Path | None]]:
    """The instance (what interrupted runs left recovered), the console output sent to the run log unless
    `verbose`, and the workspace's code location loaded here (for `job_name`'s run: `_code_location`)."""
    from acorn_cli.dbt_core import import_dagster_dbt_without_dbt_core

    # Before the definitions load: this process runs dbt, if at all, as a process of its own (dbt_core.py).
    import_dagster_dbt_without_dbt_core()
    log_path = run_log_path()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        instance = stack.enter_context(dagster_instance())
        for line in recover_interrupted(instance):
            print(line, file=sys.stderr)
        if not verbose:
            # The full step logs stay available (here and in the UI) without burying the progress and summary.
            log_file = stack.enter_context(log_path.open("w", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log_file))
            stack.enter_context(contextlib.redirect_stderr(log_file))
        location = stack.enter_context(_code_location(instance, job_name))
        yield instance, location, None if verbose else log_path


def _run_config(run_config: dict[str, Any] | None, verbose: bool) -> dict[str, Any]:
    from acorn_cli.workers import execution_config

    config: dict[str, Any] = {**execution_config(), **(run_config or {})}
    config.setdefault("loggers", {"console": {"config": {"log_level": "INFO" if verbose else "WARNING"}}})
    return config


def _execute(instance: dg.DagsterInstance, run: Any, on_event: Callable[[Any], None] | None) -> None:
    """Execute a created run here (its steps on the configured executor) until it ends."""
    from dagster._core.execution.api import execute_run_iterator
    from dagster._utils.hosted_user_process import recon_job_from_origin

    from orchestration.published_warehouse import shared_reads

    if on_event is not None:
        instance.add_event_listener(run.run_id, on_event)
    # The run's checks read the published warehouse one after the other: through one database per file.
    with shared_reads():
        for _ in execute_run_iterator(recon_job_from_origin(run.job_code_origin), run, instance):
            pass


def run_job(
    job_name: str,
    run_config: dict[str, Any] | None = None,
    *,
    command: str,
    tags: Mapping[str, str] | None = None,
    verbose: bool = False,
    on_event: Callable[[Any], None] | None = None,
    subset: Callable[[], RunSubset | None] | None = None,
    tag_outcome: bool = False,
    complete: Callable[[RunReport], None] | None = None,
) -> RunReport:
    """Create `job_name`'s run on the instance in DAGSTER_HOME, execute it here, and report how it ended.

    `subset`, when given, is asked once what was left by interrupted runs is recovered and before the run is
    created: the part of the job to run, or None for the whole job. `tag_outcome`: tag the run with the
    report's outcome on the instance already open, so that `record_outcome` need not open the instance again;
    `complete`, when given, first adds to the report what the command reports beside the run (`acorn build`: the
    dbt tests it did not run, with their recorded results), so that the tag is the whole report's outcome."""
    config = _run_config(run_config, verbose)
    with _session(verbose, job_name) as (instance, location, log_path):
        part = subset() if subset is not None else None
        run = _create_run(instance, location, job_name, config, {COMMAND_TAG: command, **(tags or {})}, part)
        _execute(instance, run, on_event)
        report = _report(instance, run.run_id, job_name, log_path)
        if complete is not None:
            complete(report)
        if tag_outcome:
            outcome = _data_outcome(report)
            instance.add_run_tags(report.run_id, {OUTCOME_TAG: outcome})
            report.tagged_outcome = outcome
        return report


def run_job_per_account_group(
    job_name: str,
    run_config: dict[str, Any],
    *,
    command: str,
    accounts: Sequence[str],
    group_tags: Callable[[Sequence[str]], Mapping[str, str]],
    account_run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    verbose: bool = False,
    on_event: Callable[[Any], None] | None = None,
    groups: int | None = None,
) -> RunReport:
    """`job_name` over several accounts as runs of groups of neighbouring accounts, so that their steps spread
    over the Celery workers: one run per group of the job's account-partitioned assets (`group_tags(group)`: its
    partition, or its partition range), as many groups as `groups` (default: the workers that answered the
    ping before the run), all executed at once, then, when every one succeeded, one run of the rest of the job
    (the build and every check; `tags`). One report for them all: the exit code is the worst of the runs', a
    failed account's cause comes first, and the other accounts (of its group too) stay landed and recorded.

    `account_run_config` (e.g. a backfill's ops config) goes to the group runs only."""
    import threading

    from dagster._utils.interrupts import capture_interrupts, check_captured_interrupt

    from acorn_cli import workers
    from acorn_cli.dbt_core import import_dagster_dbt_without_dbt_core

    import_dagster_dbt_without_dbt_core()  # before the job's definitions (as in _session)
    from orchestration.jobs import daily_job

    if job_name != daily_job.name:
        raise ValueError(f"only {daily_job.name} runs per group of accounts, not {job_name}")
    extraction, rest = daily_parts(daily_job)
    config = _run_config(run_config, verbose)
    account_config = {**config, **(account_run_config or {})}
    cut = account_groups(accounts, groups if groups is not None else len(workers.ANSWERED) or 1)
    with _session(verbose) as (instance, location, log_path), capture_interrupts():
        at_once = _no_logging_reconfiguration(instance)
        # SIGINT or SIGTERM (Dagster maps it to SIGINT here) sets the flag every run's executor checks on each
        # tick: each revokes its tasks and ends; the rest then does not start.
        runs = [
            _create_run(
                instance,
                location,
                job_name,
                account_config,
                {COMMAND_TAG: command, **group_tags(group)},
                extraction,
            )
            for group in cut
        ]
        errors: list[BaseException] = []

        def execute(run: Any) -> None:
            try:
                _execute(instance, run, on_event)
            except BaseException as error:  # raised again below, in the command's thread
                errors.append(error)

        threads = [
            threading.Thread(target=execute, args=(run,), name=f"run-{run.run_id[:8]}") for run in runs
        ]
        for thread in threads:
            thread.start()
            if not at_once:
                thread.join()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        reports = [_report(instance, run.run_id, job_name, log_path) for run in runs]
        landed = all(report.dagster_success for report in reports)
        if landed and not check_captured_interrupt():
            build = _create_run(
                instance, location, job_name, config, {COMMAND_TAG: command, **(tags or {})}, rest
            )
            _execute(instance, build, on_event)
            reports.append(_report(instance, build.run_id, job_name, log_path))
            return combined_report(reports)
        # As in one run, a landing that failed skips the build: the warehouse is not built from a partial lake.
        return combined_report(reports, built=False)


def _no_logging_reconfiguration(instance: dg.DagsterInstance) -> bool:
    """Let several runs execute in threads of this process. Dagster creates each run's log manager with
    `instance.get_handlers()`, which calls `logging.config.dictConfig` even when the instance configures no
    Python log handlers (`python_logs` in dagster.yaml; ACORN sets none): dictConfig holds the logging module's
    lock while it flushes every handler, and another run's thread emitting an event holds its handler's lock
    while it asks for the module's, so two runs deadlocked at once (seen). Without `python_logs` handlers the
    answer is none, so this instance gives that answer without reconfiguring logging. False when dagster.yaml
    does configure handlers: then the runs execute one after the other."""
    if instance.get_python_log_dagster_handler_config():
        return False
    instance.get_yaml_python_handlers = list  # type: ignore[method-assign]
    return True


def combined_report(reports: Sequence[RunReport], *, built: bool = True) -> RunReport:
    """One report for several runs of one command: every check, failure and landing of them all. It is named
    after the last run (the build, or the last group's run when the build did not start); `parts` keeps
    each run's own report. `built`: False when the last run was not the build (it did not start), which
    makes the whole a failure even when every run that did start succeeded (an interrupted command)."""
    materializations: dict[str, dict[str, Any]] = {}
    for report in reports:
        for key, metadata in report.materializations.items():
            before = materializations.get(key)
            if before is None:
                materializations[key] = dict(metadata)
                continue
            # The settlement files' outcomes of every account (the report lists refused files from them).
            outcomes = [*(before.get("outcomes") or []), *(metadata.get("outcomes") or [])]
            materializations[key] = {**before, **metadata, "outcomes": outcomes}
    last = reports[-1]
    return RunReport(
        run_id=last.run_id,
        job_name=last.job_name,
        dagster_success=built and all(report.dagster_success for report in reports),
        checks=[check for report in reports for check in report.checks],
        materializations=materializations,
        failures=[failure for report in reports for failure in report.failures],
        log_path=last.log_path,
        parts=list(reports),
        built=built,
    )


def recover_interrupted(instance: dg.DagsterInstance) -> list[str]:
    """Mark the runs killed processes left behind as failed, and finish or remove the data dir's leftovers of
    interrupted runs; one line per thing done (transforms/recovery.py)."""
    from orchestration.paths import data_paths
    from transforms.recovery import recover

    lines = [
        f"recovered: run {run_id} marked failed: {reason}" for run_id, reason in fail_dead_runs(instance)
    ]
    return lines + recover(data_paths().root).lines()


def _data_outcome(report: RunReport) -> str:
    """What the data says, whatever a command expected of it (the demo expects its deliberate anomalies)."""
    return dataclasses.replace(report, expected_failures=set()).outcome


def record_outcome(report: RunReport) -> None:
    """Tag the run with how it ended (`acorn/outcome`), so the runs list says it beside Dagster's status."""
    # Each run of a command that made several (`acorn run` per group of accounts on Celery) by its own outcome, then
    # the last, which the report is named after, by the whole command's.
    # A group's run that the build did not follow keeps its own outcome: the report is not the build's then.
    parts = [*report.parts, *([report] if report.built or not report.parts else [])]
    # A run tagged already with the same outcome (run_job's tag_outcome) is left as it is: no instance to open.
    todo = [(part, outcome) for part in parts if (outcome := _data_outcome(part)) != part.tagged_outcome]
    if not todo:
        return
    with dg.DagsterInstance.get() as instance:
        for part, outcome in todo:
            instance.add_run_tags(part.run_id, {OUTCOME_TAG: outcome})
            part.tagged_outcome = outcome


def _report(instance: dg.DagsterInstance, run_id: str, job_name: str, log_path: Path | None) -> RunReport:
    run = instance.get_run_by_id(run_id)
    checks: list[CheckReport] = []
    materializations: dict[str, dict[str, Any]] = {}
    failures: list[StepFailure] = []
    # Only the three kinds of event the report reads: a build records about 600 events, most of them outputs and
    # planned checks, and reading each back costs its deserialisation.
    wanted = {
        dg.DagsterEventType.ASSET_CHECK_EVALUATION,
        dg.DagsterEventType.ASSET_MATERIALIZATION,
        dg.DagsterEventType.STEP_FAILURE,
    }
    for record in instance.get_records_for_run(run_id, of_type=wanted).records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = cast("AssetCheckEvaluation", event.event_specific_data)
            checks.append(
                CheckReport(
                    name=evaluation.check_name,
                    asset=evaluation.asset_key.to_user_string(),
                    passed=evaluation.passed,
                    severity=evaluation.severity.value,
                    metadata=plain_metadata(evaluation.metadata),
                    step_key=event.step_key,
                )
            )
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.step_materialization_data.materialization
            if materialization is None:
                continue
            materializations[materialization.asset_key.to_user_string()] = plain_metadata(
                materialization.metadata
            )
        elif event.is_step_failure:
            failures.append(step_failure(event))
    success = run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    return RunReport(run_id, job_name, success, checks, materializations, failures, log_path)


def plain_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Dagster metadata as plain JSON-able Python, as the report carries it."""
    return {key: _plain(value) for key, value in metadata.items()}


def _plain(value: Any) -> Any:
    """Dagster metadata values as plain JSON-able Python."""
    inner = getattr(value, "value", getattr(value, "data", value))
    if isinstance(inner, dict | list | str | int | float | bool) or inner is None:
        return inner
    return str(inner)
