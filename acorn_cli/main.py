"""`acorn`: the commands users run (the README lists them)."""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from acorn_cli.books import books
from acorn_cli.dashboard import dashboard
from acorn_cli.environment import prepare_environment
from acorn_cli.lake import lake
from acorn_cli.vendor import vendor
from orchestration.outcomes import WAREHOUSE_UNCHANGED_KEY, ExitCode
from orchestration.paths import REPO_ROOT, DataPaths, data_paths

if TYPE_CHECKING:
    import dagster as dg

    from acorn_cli.runs import CheckReport, RunReport, RunSubset
    from orchestration.warehouse.dbt_prestart import PrestartedDbt
    from orchestration.warehouse.last_build import LastBuild
    from orchestration.warehouse.precopy import Precopy
    from spapi.config import Config

PROFILES = click.Choice(["clean", "hostile"])
BACKFILL_SINCE_TAG = "acorn/backfill_since"


@click.group()
@click.version_option(package_name="acorn", message="acorn %(version)s")
def cli() -> None:
    """ACORN: Amazon seller and vendor finance data, reconciled to the cent.

    \b
    Exit codes (demo, run, backfill, import, build):
      0  all good
      1  a file was quarantined or rejected, or an ERROR check failed
      2  usage error
      3  could not run (a lock held, bad config, credentials refused, Amazon unreachable)
    """
    prepare_environment()


def _finish(report: RunReport, *, as_json: bool = False, extra: dict[str, object] | None = None) -> NoReturn:
    """Say how the run ended (problems with their causes, where the logs are), tag it, and exit with its code."""
    from acorn_cli.runs import record_outcome

    record_outcome(report)
    if as_json:
        click.echo(json.dumps({**report.to_json(), **(extra or {})}, indent=2, default=str))
    problems = report.problems()
    if problems:
        click.echo(f"{len(problems)} problem(s) in run {report.run_id} ({report.outcome}):", err=True)
        for problem in problems:
            click.echo("  - " + problem.replace("\n", "\n    "), err=True)
    if report.exit_code == ExitCode.COULD_NOT_RUN and report.log_path is not None:
        click.echo(f"Full step logs: {report.log_path} (and the run {report.run_id} in `make ui`)", err=True)
    sys.exit(int(report.exit_code))


def alert_after_run(report: RunReport, selected: list[str]) -> None:
    """Silence is an alert, and a cron job has no daemon to post one: add the quiet accounts to the run's
    problems (exit 1), and post them and the run's failed ERROR checks to ACORN_ALERT_WEBHOOK_URL when set."""
    from datetime import UTC, datetime

    import dagster as dg

    from orchestration.lake_refresh import refresh_lake
    from orchestration.quality.alerts import AlertDeliveryError, post_run_alerts, post_silence_alerts
    from orchestration.quality.silence import silence_findings

    config = _loaded_config()
    now = datetime.now(UTC)
    lake = data_paths().lake
    refresh_lake(lake)  # scale-out: the object store's lake, which the workers landed (embedded: nothing)
    with dg.DagsterInstance.get() as instance:
        findings = [
            finding
            for finding in silence_findings(instance, config, lake, now)
            if not selected or finding.account_id in selected
        ]
        report.extra_problems += [f"silent: {f.account_id}: {f.message}" for f in findings]
        environ = dict(os.environ)
        try:
            posted = post_run_alerts(instance, report.run_id, environ)
            posted_silence, _ = post_silence_alerts(findings, None, environ, now)
        except AlertDeliveryError as error:
            click.echo(f"alerts not delivered: {error}", err=True)
            return
    if environ.get("ACORN_ALERT_WEBHOOK_URL"):
        click.echo(f"alerts: {posted}; {posted_silence}", err=True)


def _loaded_config() -> Config:
    """The accounts config (ACORN_CONFIG, else the bundled simulator's), or exit 3 naming what is wrong with it."""
    from orchestration.paths import default_config_path
    from spapi.config import load_config
    from spapi.errors import ConfigError

    try:
        return load_config(default_config_path())
    except ConfigError as error:
        click.echo(f"could not run: {error} (check it with `acorn doctor`)", err=True)
        sys.exit(int(ExitCode.COULD_NOT_RUN))


def _spapi_accounts(selected: tuple[str, ...]) -> list[str]:
    """The --account ids, checked against the config (an unknown id is a usage error that lists the known)."""
    if not selected:
        return []
    known = [account.id for account in _loaded_config().accounts]
    unknown = [account for account in selected if account not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown account {', '.join(map(repr, unknown))}; the config has: {', '.join(known)}",
            param_hint="--account",
        )
    return list(selected)


def _partition_tags(accounts: list[str] | None) -> dict[str, str]:
    """The run tags of a run over these accounts' partitions (None: every account); several accounts must be
    one range of the config's order (a run covers one partition range), else a usage error."""
    from orchestration.account_partitions import partition_tags

    try:
        return partition_tags(accounts)
    except ValueError as error:
        raise click.BadParameter(
            f"{error}: give one --account per run, or neighbours in the config's order, or none for all",
            param_hint="--account",
        ) from error


def _import_partition_tags(account: str | None, *, reattribute: bool) -> dict[str, str]:
    """An import for `--account` is a run of that account's partition. Without it (the account is known only once
    each file is read) or with --reattribute (the settlement leaves the account it was under), a run over every
    account's partition."""
    return _partition_tags([account] if account is not None and not reattribute else None)


def _claim_simulated_day() -> None:
    """Exit 3 when the data dir holds the bundled simulator's data of another simulated day (it would fail
    checks on data no real account serves); record the day otherwise. Nothing for a config that talks to Amazon."""
    from orchestration.resources import claim_simulated_data_dir
    from spapi.bundled_simulator import SimulatedDayMismatch

    try:
        claim_simulated_data_dir()
    except SimulatedDayMismatch as error:
        click.echo(f"could not run: {error}", err=True)
        sys.exit(int(ExitCode.COULD_NOT_RUN))


def _spapi_config(profile: str = "clean", request_log: Path | None = None) -> dict[str, object]:
    config: dict[str, object] = {"simulator_profile": profile}
    if os.environ.get("ACORN_CONFIG"):
        config["config_path"] = str(Path(os.environ["ACORN_CONFIG"]).resolve())
    if request_log is not None:
        config["simulator_request_log"] = str(request_log.resolve())
    return {"config": config}


@cli.command()
@click.option("--profile", type=PROFILES, default="clean", show_default=True, help="Simulator fault profile.")
@click.option(
    "--request-log", type=click.Path(dir_okay=False, path_type=Path), help="Simulator request log (JSONL)."
)
@click.option("--verbose", is_flag=True, help="Show Dagster's step logs.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: outcome, problems, every check."
)
def demo(profile: str, request_log: Path | None, verbose: bool, as_json: bool) -> None:
    """Start the SP-API simulator, run the whole pipeline on it, and print a summary.

    The demo data carries deliberate anomalies; the demo exits 0 when the checks catch exactly those (and
    nothing else failed), 1 when a check failed that no deliberate anomaly explains or one went unnoticed.
    """
    from acorn_cli.progress import RunProgress
    from acorn_cli.runs import run_job
    from acorn_cli.summary import expected_demo_failures, render_summary

    paths = data_paths().ensure()
    _claim_simulated_day()
    click.echo(f"ACORN demo: simulator profile '{profile}', data in {paths.root}", err=True)
    started = time.monotonic()
    with RunProgress() as progress:
        report = run_job(
            "acorn_daily",
            {"resources": {"spapi": _spapi_config(profile, request_log)}},
            command="demo",
            tags=_partition_tags(None),
            verbose=verbose,
            on_event=progress,
        )
    click.echo(f"Dagster run {report.run_id} finished in {time.monotonic() - started:.0f} s.", err=True)
    expected = expected_demo_failures()
    failed = {check.name for check in report.checks if not check.passed}
    missed = sorted(expected - failed)
    report.expected_failures = expected
    report.extra_problems += [f"a deliberate anomaly went unnoticed: {n} did not fail" for n in missed]
    if report.exit_code != ExitCode.COULD_NOT_RUN and not as_json:
        click.echo(render_summary(paths.warehouse, report.checks, expected=expected))
    if report.exit_code == ExitCode.OK:
        # The checks caught exactly the deliberate anomalies: the demo works. In the UI the run stays failed,
        # as it would for real data with an ERROR check failed.
        click.echo(
            f"The demo's {len(expected)} deliberate anomalies were caught and nothing else failed.", err=True
        )
    _finish(report, as_json=as_json)


# Pipes a shell hands over already open (`acorn import <(cmd)`, `/dev/stdin`): streams with a writer behind them.
_OPEN_STREAM_DIRS = ("/dev/fd/", "/proc/")


def import_path_problem(path: Path) -> str | None:
    """Why `acorn import` cannot read `path` (a usage error), or None. Regular files and pipes the shell
    opened (`<(cmd)`, /dev/stdin) are read; a directory, a named pipe (FIFO) on disk (reading one waits for a
    writer that may never come), a device or a socket each get their own message."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"no such file: {path}"
    except OSError as error:
        return f"cannot read {path}: {error.strerror or error}"
    shown = str(path)
    if stat.S_ISDIR(mode):
        return f"{shown} is a directory: give the files in it (e.g. {shown.rstrip('/')}/*.txt)"
    if stat.S_ISFIFO(mode):
        absolute = os.path.abspath(shown)
        if absolute == "/dev/stdin" or absolute.startswith(_OPEN_STREAM_DIRS):
            return None if os.access(shown, os.R_OK) else f"cannot read {shown}: permission denied"
        return (
            f"{shown} is a named pipe (FIFO), not a file: reading it would wait for a writer; import what is "
            f"written into it with `acorn import <(cat {shown})` once a writer is there"
        )
    if stat.S_ISREG(mode):
        return None if os.access(shown, os.R_OK) else f"cannot read {shown}: permission denied"
    kind = (
        "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else None
    )
    return f"{shown} is {kind or 'not a regular file'}, not a settlement file"


def import_path_argument(path: Path) -> str:
    """The path handed to the import run: a regular file's resolved path; a pipe's as given (resolving
    /dev/fd/63 would give `pipe:[...]`, which is no path). The run executes in this process, so the pipe is
    still open."""
    if path.is_file():
        return str(path.resolve())
    return os.path.abspath(path)


@cli.command(name="import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: outcome, problems, and `files`, one per file.",
)
@click.option(
    "--account",
    help="Seller account (id in the config) the files belong to; default: inferred from their marketplace.",
)
@click.option(
    "--reattribute",
    is_flag=True,
    help="Move settlements these files already landed for another account (or none) to --account.",
)
def import_(files: tuple[Path, ...], as_json: bool, account: str | None, reattribute: bool) -> None:
    """Import settlement files downloaded from Seller Central (exit 1 if any is quarantined or rejected)."""
    # Dagster and what loads it come after the fork below (prestage.forked_copy).
    from transforms import prestage

    if not files:
        raise click.UsageError("give at least one settlement file")
    problems = [problem for f in files if (problem := import_path_problem(f)) is not None]
    if problems:
        raise click.UsageError("; ".join(problems))
    if reattribute and account is None:
        raise click.UsageError("--reattribute needs --account: the account the settlements move to")
    if account is not None:
        # Before the data dir is made: a usage error leaves nothing behind. It loads Dagster, so with --account
        # the fork below comes after Dagster's import (still forked while the process has one thread, or not).
        from orchestration.settlements.accounts import UnknownAccount, check_account_option

        try:
            check_account_option(account)
        except UnknownAccount as error:
            raise click.BadParameter(str(error), param_hint="--account") from error
    paths = data_paths().ensure()
    # The first file's archive copy, made by a forked child while Dagster loads, for the step to take over
    # (transforms/prestage.py): forked first, while this process has one thread (what follows loads Dagster).
    with prestage.forked_copy(Path(import_path_argument(files[0])), paths.root):
        sources = _import_sources(files, paths.root)
        run_config = {
            "ops": {
                "settlement_reports": {
                    "config": {**sources, "account_id": account, "reattribute": reattribute}
                }
            },
        }
        from acorn_cli.progress import RunProgress
        from acorn_cli.runs import run_job

        with RunProgress() as progress:
            report = run_job(
                "settlement_import",
                run_config,
                command="import",
                tags=_import_partition_tags(account, reattribute=reattribute),
                on_event=progress,
                tag_outcome=True,  # tagged on the run's instance: _finish's record_outcome opens none
            )
    from orchestration.settlements.assets import SETTLEMENT_LINES, outcomes_from_metadata

    metadata = report.materializations.get(SETTLEMENT_LINES.to_user_string())
    outcomes = outcomes_from_metadata(metadata) if metadata is not None else []
    if not as_json:
        for outcome in outcomes:
            click.echo(
                f"{outcome['status']:<12} {outcome['file']}  settlement {outcome['settlement_id'] or '-'}, "
                f"{outcome['rows']} rows  {outcome['message'] or ''}".rstrip()
            )
    _finish(report, as_json=as_json, extra={"files": outcomes})


def _import_sources(files: tuple[Path, ...], data_dir: Path) -> dict[str, list]:
    """The run config naming the files: their paths, read by the step where it runs; or, when the steps run on
    Celery workers that share no disk with this host (an s3:// store), the files sent to the object store
    first and named by sha256, which the worker downloads and checks (orchestration/settlements/
    stored_imports.py). A store this host cannot use: exit 3 naming the cause and the fix."""
    from orchestration.settlements.stored_imports import StoreUnavailable, files_travel_by_store, send_file

    if not files_travel_by_store():
        return {"import_files": [import_path_argument(f) for f in files]}
    stored = []
    for path in files:
        argument = import_path_argument(path)
        try:
            stored.append(send_file(path, data_dir=data_dir, argument=argument).to_config())
        except StoreUnavailable as error:
            click.echo(f"could not run: {argument} could not be sent to the object store: {error}", err=True)
            sys.exit(int(ExitCode.COULD_NOT_RUN))
        except OSError as error:
            raise click.UsageError(f"cannot read {argument}: {error.strerror or error}") from None
    return {"stored_files": stored}


@cli.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: outcome, problems, every check."
)
def build(as_json: bool) -> None:
    """Refresh the marts from the lake (dbt build) and run every check."""
    from orchestration.warehouse.precopy import stop_all
    from transforms.prestage import unwinding_on_sigterm

    prestarted, precopied = _start_ahead()

    def stop_ahead() -> None:
        stop_all()  # the warehouse's copy made ahead, unless the build took it
        if prestarted is not None:
            prestarted.stop()

    try:
        with unwinding_on_sigterm(stop_all) if precopied is not None else contextlib.nullcontext():
            _build(as_json)
    finally:
        stop_ahead()


def _start_ahead(*, lands_data_first: bool = False) -> tuple[PrestartedDbt | None, Precopy | None]:
    """dbt imported (orchestration/warehouse/dbt_prestart.py) and the published warehouse copied
    (orchestration/warehouse/precopy.py) beside Dagster's start-up, when this command will probably run dbt here:
    in the embedded mode, in `acorn`'s own process, with its steps in this process, on the data dir's file; for a
    build, when the lake changed since the last build. `lands_data_first` (the daily run, which extracts and lands
    new data before its build): dbt whatever the lake holds now, and no copy (it would be held through the
    extraction, which can take minutes, for a copy that costs well under a second)."""
    from acorn_cli.dbt_core import is_own_process
    from orchestration.executor import steps_on_celery
    from orchestration.paths import CATALOG_URL_VAR
    from orchestration.warehouse.dbt_prestart import likely_to_run_dbt, start_dbt_ahead
    from orchestration.warehouse.precopy import start_precopy

    if not is_own_process() or steps_on_celery() or os.environ.get(CATALOG_URL_VAR):
        return None, None
    if lands_data_first:
        return start_dbt_ahead(), None
    paths = data_paths()
    if not likely_to_run_dbt(paths.warehouse, paths.lake):
        return None, None
    # dbt's process first: forked after, it would hold the copy's descriptor (and its hold) while dbt runs.
    prestarted = start_dbt_ahead()
    return prestarted, start_precopy(paths.warehouse)


def _build(as_json: bool) -> None:
    from acorn_cli.progress import RunProgress
    from acorn_cli.runs import run_job
    from orchestration.warehouse.inputs import unchanged_since

    paths = data_paths().ensure()
    unchanged: list[LastBuild] = []
    scoped: list[ScopedBuild] = []
    progress = RunProgress()

    def part_of_the_build() -> RunSubset | None:
        """Nothing new since the published warehouse was built: a run of the checks beside dbt alone. Its dbt
        step would only say so and replay the recorded dbt test results, a few hundred Dagster events that each
        cost a write to the run history; each dbt test keeps its evaluation by the build that made the
        warehouse (in the UI too), and the command reports them from that build's record."""
        from acorn_cli.runs import RunSubset

        last = unchanged_since(paths)
        if last is None:
            planned = _scoped_build(paths)
            if planned is None:
                return None
            scoped.append(planned)
            progress.line(
                f"  · dbt scope: {planned.rebuilt} of {planned.rebuilt + planned.left_out} nodes read what changed; "
                f"the other {planned.left_out} stand as run {planned.last.run_id} built them (not run again)"
            )
            return planned.subset
        unchanged.append(last)
        progress.line(f"  ✓ dbt build: nothing new since run {last.run_id}, warehouse unchanged, dbt not run")
        return RunSubset(assets=frozenset(), checks=frozenset(_checks_beside_dbt()))

    def reported_tests(report: RunReport) -> None:
        """The dbt tests the run did not evaluate, with the results the build that made them recorded."""
        if unchanged:
            report.checks += _recorded_dbt_tests(unchanged[0])
        if scoped:
            report.checks += scoped[0].left_out_tests()

    with progress:
        report = run_job(
            "warehouse_build",
            command="build",
            on_event=progress,
            subset=part_of_the_build,
            tag_outcome=True,  # tagged on the run's instance once complete: _finish opens none
            complete=reported_tests,
        )
    _report_build(
        report,
        as_json,
        unchanged_since=unchanged[0].run_id if unchanged else None,
        scoped=scoped[0] if scoped else None,
    )


@dataclass(frozen=True)
class ScopedBuild:
    """`acorn build`'s run of only the dbt nodes that read what changed (orchestration/warehouse/scoped_run.py):
    the others are not in the run, and the command reports them from the record of the build that made them."""

    subset: RunSubset
    last: LastBuild
    left_out_ids: frozenset[str]
    rebuilt: int
    left_out: int

    def left_out_tests(self) -> list[CheckReport]:
        """The left-out dbt tests with the results recorded for them, each naming the run that evaluated it."""
        from acorn_cli.runs import CheckReport, plain_metadata

        built_by = {"run_id": self.last.run_id, "built_at": self.last.built_at}
        reports = []
        for recorded in self.last.checks:
            if recorded.metadata.get("unique_id") not in self.left_out_ids:
                continue
            result = recorded.replayed(built_by)
            metadata = {
                **plain_metadata(result.metadata),
                "note": "nothing it reads changed since that build: not run again, its result stands",
            }
            reports.append(
                CheckReport(
                    name=recorded.check_name,
                    asset="/".join(recorded.asset_key),
                    passed=result.passed,
                    severity=result.severity.value,
                    metadata=metadata,
                )
            )
        return reports

    def summary(self) -> str:
        return (
            f"dbt rebuilt the {self.rebuilt} of {self.rebuilt + self.left_out} nodes that read what changed; the "
            f"other {self.left_out} stand as run {self.last.run_id} built them (not run again: their models keep "
            "that build's materialization, their tests that build's results, reported above)"
        )


def _scoped_build(paths: DataPaths) -> ScopedBuild | None:
    """The part of the build job to run when dbt would run only some nodes (orchestration/warehouse/scope.py):
    every asset and check of the job but the dbt models, seeds and tests the scope leaves out. None when every
    node runs, or the selection is too large for dagster-dbt to pass on the command line."""
    from acorn_cli.runs import RunSubset
    from orchestration.definitions import defs
    from orchestration.jobs import build_job
    from orchestration.warehouse.assets import acorn_dbt_models
    from orchestration.warehouse.inputs import build_inputs, build_settings
    from orchestration.warehouse.model_definitions import incremental_definitions
    from orchestration.warehouse.project import dbt_project
    from orchestration.warehouse.scoped_run import (
        MAX_SELECTED_RESOURCES,
        SCOPED_BUILD_TAG,
        check_unique_ids,
        manifest_of,
        planned_scope,
        redefined_since_last_build,
        scoped_selection,
    )
    from orchestration.warehouse_catalog import configured_warehouse

    if configured_warehouse(paths.warehouse) is not None:
        return None  # a catalog build always runs every node
    manifest = manifest_of(dbt_project.manifest_path)
    redefined = redefined_since_last_build(
        paths.warehouse, incremental_definitions(dbt_project.manifest_path)
    )
    scope, last = planned_scope(
        paths.warehouse,
        build_inputs(paths.lake, build_settings()),
        manifest,
        redefined=bool(redefined),
        check_unique_ids=check_unique_ids(acorn_dbt_models),
    )
    if scope.everything or last is None or not scope.left_out:
        return None
    selection = scoped_selection(acorn_dbt_models, scope)
    if selection.resources > MAX_SELECTED_RESOURCES:
        return None
    graph = defs.resolve_asset_graph()
    subset = RunSubset(
        assets=frozenset(build_job.selection.resolve(graph) - selection.left_out_assets),
        checks=frozenset(build_job.selection.resolve_checks(graph) - selection.left_out_checks),
        tags={SCOPED_BUILD_TAG: last.run_id},
    )
    return ScopedBuild(subset, last, scope.left_out, rebuilt=len(scope.run), left_out=len(scope.left_out))


def _checks_beside_dbt() -> set[dg.AssetCheckKey]:
    """The checks of `acorn build` that are not dbt tests: the lake's checks and the Python checks over the
    warehouse."""
    from orchestration.definitions import defs
    from orchestration.jobs import build_job
    from orchestration.warehouse.assets import acorn_dbt_models

    return set(build_job.selection.resolve_checks(defs.resolve_asset_graph())) - set(
        acorn_dbt_models.check_keys
    )


def _recorded_dbt_tests(last: LastBuild) -> list[CheckReport]:
    """The dbt tests' results as the build that made the unchanged warehouse recorded them, marked as such."""
    from acorn_cli.runs import CheckReport, plain_metadata

    built_by = {"run_id": last.run_id, "built_at": last.built_at}
    reports = []
    for recorded in last.checks:
        result = recorded.replayed(built_by)
        reports.append(
            CheckReport(
                name=recorded.check_name,
                asset=result.asset_key.to_user_string() if result.asset_key else "/".join(recorded.asset_key),
                passed=result.passed,
                severity=result.severity.value,
                metadata=plain_metadata(result.metadata),
            )
        )
    return reports


def _report_build(
    report: RunReport, as_json: bool, *, unchanged_since: str | None, scoped: ScopedBuild | None = None
) -> NoReturn:
    from acorn_cli.summary import format_checks

    unchanged_since = unchanged_since or _warehouse_unchanged_since(report)
    if not as_json:
        click.echo("\n".join(format_checks(report.checks)))
        if unchanged_since:
            click.echo(
                f"nothing new, warehouse unchanged (built by run {unchanged_since}; its dbt test results "
                "are reported as they were then, the other checks ran again)"
            )
        if scoped is not None:
            click.echo(scoped.summary())
    extra: dict[str, object] = {"warehouse_unchanged_since_run": unchanged_since}
    if scoped is not None:
        extra["dbt_nodes_left_out_unchanged"] = {
            "nodes": scoped.left_out,
            "of": scoped.rebuilt + scoped.left_out,
            "since_run": scoped.last.run_id,
        }
    _finish(report, as_json=as_json, extra=extra)


def _warehouse_unchanged_since(report: RunReport) -> str | None:
    """The run that built the published warehouse, when this build found nothing new and did not run dbt."""
    for metadata in report.materializations.values():
        if WAREHOUSE_UNCHANGED_KEY in metadata:
            return str(metadata[WAREHOUSE_UNCHANGED_KEY])
    return None


@cli.command()
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Only this account (repeat for several); default: every account in ACORN_CONFIG.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: outcome, problems, every check."
)
@click.option("--verbose", is_flag=True, help="Show Dagster's step logs.")
def run(accounts: tuple[str, ...], as_json: bool, verbose: bool) -> None:
    """The daily pipeline for the accounts in ACORN_CONFIG: extract, land, build, check (for cron/systemd).

    The same job as the 06:00 schedule (`acorn_daily`), recorded on the Dagster instance like a run started in
    the UI. Also exits 1 when an account has gone quiet (see `[alerts]` in the config).
    """
    _loaded_config()  # a config that does not load is exit 3 before anything starts
    # Its dbt step comes after the extraction and the landing: dbt's import is done by then, beside them.
    prestarted, _ = _start_ahead(lands_data_first=True)
    try:
        _run_daily_job("run", _spapi_accounts(accounts), as_json=as_json, verbose=verbose, alert=True)
    finally:
        if prestarted is not None:
            prestarted.stop()


def _run_daily_job(
    command: str,
    selected: list[str],
    *,
    as_json: bool,
    verbose: bool,
    alert: bool,
    ops_config: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    heading: str = "",
) -> None:
    """The daily job (`acorn_daily`) over the selected accounts' partitions (none: every account), reported and
    ended as `acorn run` does; `alert`: then the silence alert (exit 1 when an account has gone quiet)."""
    from acorn_cli.progress import RunProgress
    from acorn_cli.runs import run_job, run_job_per_account_group
    from orchestration.account_groups import group_run_tags
    from orchestration.account_partitions import account_partition_keys
    from orchestration.executor import steps_on_celery
    from orchestration.quality.silence import ACCOUNTS_TAG

    paths = data_paths().ensure()
    _claim_simulated_day()
    spapi = _spapi_config()
    # The accounts' partitions: one account, a run of its partition; none given, one run over every account's.
    run_tags = {**_partition_tags(selected or None), **(tags or {})}
    if selected:
        run_tags[ACCOUNTS_TAG] = ",".join(selected)  # the silence alert reads it
    heading = heading or ", ".join(selected) or "every account"
    click.echo(f"ACORN {command}: {heading}, data in {paths.root}", err=True)
    # In the config's order: a group of neighbours is one partition range.
    accounts = [key for key in account_partition_keys() if not selected or key in selected]
    with RunProgress() as progress:
        if len(accounts) > 1 and steps_on_celery():
            # On Celery workers: one run per group of neighbouring accounts (as many groups as workers answer),
            # at once, so the accounts' steps spread over the workers (one run over them all makes each asset one
            # step looping over every account), then one run of the build and the checks; one report (README,
            # Scale-out: runs per group of accounts).
            report = run_job_per_account_group(
                "acorn_daily",
                {"resources": {"spapi": spapi}},
                command=command,
                accounts=accounts,
                group_tags=lambda group: {**group_run_tags(group), **(tags or {})},
                account_run_config=ops_config,
                tags=run_tags,
                verbose=verbose,
                on_event=progress,
            )
        else:
            report = run_job(
                "acorn_daily",
                {"resources": {"spapi": spapi}, **(ops_config or {})},
                command=command,
                tags=run_tags,
                verbose=verbose,
                on_event=progress,
            )
    if alert and report.exit_code != ExitCode.COULD_NOT_RUN:
        alert_after_run(report, selected)
    if not as_json:
        from acorn_cli.summary import format_checks

        click.echo("\n".join(format_checks(report.checks)))
    _finish(report, as_json=as_json)


@cli.command()
@click.option("--account", required=True, help="The account to re-read (its partition).")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Re-read from this day (UTC) to today.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object: outcome, problems, every check."
)
@click.option("--verbose", is_flag=True, help="Show Dagster's step logs.")
def backfill(account: str, since: datetime, as_json: bool, verbose: bool) -> None:
    """Re-read one account from Amazon since DATE (the daily job on its partition), then build and check.

    The Finances and vendor assets look back to DATE: transactions posted, event groups ended, purchase orders and
    invoices changed since then are read again and merged into the account's lake partitions (unchanged rows keep
    their bytes); settlement reports reach back as far as Amazon keeps them (90 days). No other account is read
    or rewritten. Exit codes as for `acorn run`.
    """
    from orchestration.account_partitions import backfill_run_config
    from orchestration.resources import business_now

    _loaded_config()
    [selected] = _spapi_accounts((account,))
    today = business_now().date()
    if since.date() > today:
        raise click.BadParameter(f"{since.date()} is after today ({today})", param_hint="--since")
    _run_daily_job(
        "backfill",
        [selected],
        as_json=as_json,
        verbose=verbose,
        alert=False,
        ops_config=backfill_run_config(since.date(), today),
        tags={BACKFILL_SINCE_TAG: since.date().isoformat()},
        heading=f"{selected} since {since.date()}",
    )


@cli.command()
@click.option(
    "--port",
    type=int,
    default=8700,
    show_default=True,
    help="LWA on PORT, SP-API na/eu/fe on PORT+1..+3, documents on PORT+4.",
)
@click.option("--profile", type=PROFILES, default="clean", show_default=True)
@click.option("--request-log", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--time-scale", type=float, default=1.0, show_default=True, help="Simulated seconds per real second."
)
@click.option(
    "--simulated-sellers",
    type=int,
    default=0,
    show_default=True,
    help="Seller accounts beside the demo's (sim-na-001, sim-eu-002, ...), as [simulator] simulated_sellers.",
)
@click.option(
    "--start",
    help="Start the simulated clock at this ISO date or time (UTC) and keep the data as of then, as a run's own "
    "simulator does (ACORN_SIMULATOR_START of the runs that share it). Default: now, the data moving on.",
)
def simulator(
    port: int,
    profile: str,
    request_log: Path | None,
    seed: int,
    time_scale: float,
    simulated_sellers: int,
    start: str | None,
) -> None:
    """Run the SP-API simulator alone, in the foreground (port 0: a free port for each origin)."""
    from simulator import run_forever
    from simulator.clock import START_VARIABLE, start_override

    try:
        started = start_override({START_VARIABLE: start}) if start else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--start") from None
    run_forever(
        port,
        profile=profile,
        request_log=request_log,
        seed=seed,
        time_scale=time_scale,
        simulated_sellers=simulated_sellers,
        start=started,
    )


@cli.command()
@click.option("--name", help="The worker's name (default acorn-PID); shown in each step's events.")
@click.option("--log-level", default="INFO", show_default=True, help="Celery's log level.")
def worker(name: str | None, log_level: str) -> None:
    """Execute run steps from the Celery broker (ACORN_EXECUTOR=celery; README, Scale-out), one at a time.

    Start as many as the hosts allow, each with the runs' ACORN_* and DAGSTER_HOME environment."""
    from acorn_cli.workers import exec_worker

    exec_worker(name, log_level)


@cli.command()
def doctor() -> None:
    """Check the config, the credentials, the token exchange and one cheap call per account.

    Also says where the Dagster instance keeps its runs (SQLite in DAGSTER_HOME, or PostgreSQL) and whether
    that PostgreSQL is reachable.

    Also says where the warehouse is (the DuckDB file, or the DuckLake catalog and its last published build).

    Exit 0 when every check passed, 1 when one failed, 3 when the config cannot be loaded or the instance's
    PostgreSQL or the warehouse's DuckLake catalog cannot be used."""
    from orchestration.outcomes import ExitCode as Exit
    from orchestration.paths import default_config_path
    from spapi.doctor import doctor_report

    report = doctor_report(
        default_config_path(), dict(os.environ), bundled=not os.environ.get("ACORN_CONFIG")
    )
    *lines, closing = report.lines()
    for line in lines:
        click.echo(line)
    instance_ok = _report_instance()
    warehouse_ok = _report_warehouse()
    click.echo(closing if instance_ok else f"{closing}; the Dagster instance cannot be used (FAIL instance)")
    _report_leftovers()
    if not instance_ok or not warehouse_ok:
        sys.exit(int(Exit.COULD_NOT_RUN))
    if not report.config_loaded:
        sys.exit(int(Exit.COULD_NOT_RUN))
    sys.exit(int(Exit.DATA_PROBLEM if report.failed else Exit.OK))


def _report_instance() -> bool:
    """One line on the Dagster instance's storage (README, "Scale-out"): SQLite in DAGSTER_HOME, or PostgreSQL
    with whether it answers (its password never shown). False when that PostgreSQL cannot be used."""
    from acorn_cli.instance_storage import InstanceUnavailable, instance_storage, probe
    from spapi.doctor import Finding

    storage = instance_storage()
    if storage.url is None:
        click.echo(Finding("instance", True, f"Dagster runs, events and schedules in {storage.shown}"))
        return True
    try:
        found = probe(storage)
    except InstanceUnavailable as error:
        click.echo(
            Finding("instance", False, f"{storage.shown} cannot be used: {error.cause}", advice=error.fix)
        )
        return False
    runs = (
        "no tables yet (the next acorn command creates them)" if found.runs is None else f"{found.runs} runs"
    )
    click.echo(
        Finding(
            "instance", True, f"Dagster runs, events and schedules in {storage.shown}: {found.server}, {runs}"
        )
    )
    return True


def _report_warehouse() -> bool:
    """One line on the warehouse (README, "Scale-out"): the DuckDB file, or the DuckLake catalog with its last
    published build (its password and keys never shown). False when the catalog cannot be used."""
    from orchestration.warehouse_catalog import CouldNotRun, catalog_status, configured_warehouse
    from spapi.doctor import Finding

    warehouse = data_paths().warehouse
    try:
        catalog = configured_warehouse(warehouse)
        if catalog is None:
            click.echo(Finding("warehouse", True, f"DuckDB file {warehouse} (embedded)"))
            return True
        status = catalog_status(catalog)
    except CouldNotRun as error:
        click.echo(Finding("warehouse", False, str(error)))
        return False
    click.echo(Finding("warehouse", True, f"{catalog.shown}: {status}"))
    return True


def _report_leftovers() -> None:
    """Leftovers of interrupted runs in the data dir, one `warn` line each (found only: the next import, run,
    build or demo finishes or removes them, transforms/recovery.py)."""
    from transforms.recovery import find_leftovers, human_size

    root = data_paths().root
    found = find_leftovers(root)
    for item in found:
        click.echo(f"warn leftover of an interrupted run: {item.describe(root)}")
    if found:
        total = human_size(sum(item.size for item in found))
        click.echo(
            f"warn {len(found)} leftover(s), {total}, in {root}: the next `acorn import`, `run`, `build` or "
            "`demo` finishes or removes them"
        )


@cli.command()
@click.option("--port", type=int, default=3000, show_default=True)
def ui(port: int) -> None:
    """Dagster webserver and daemon on 127.0.0.1 over the same DAGSTER_HOME and data."""
    from acorn_cli.environment import dagster_instance

    with dagster_instance():
        pass  # the instance's storage exists before the webserver and the daemon both open it
    os.execvp(  # noqa: S606 (replaces this process with dagster dev; no shell involved)
        sys.executable,
        [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
        ],
    )


@cli.command()
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--no-serve", is_flag=True, help="Only generate the docs (dbt_project/target/), do not serve them."
)
def docs(port: int, no_serve: bool) -> None:
    """Generate the dbt docs offline and serve them on 127.0.0.1.

    In scale-out (ACORN_WAREHOUSE_CATALOG_URL set) from the DuckLake catalog at its last published build."""
    from acorn_cli.docs import docs_command

    docs_command(data_paths().ensure().warehouse, port=port, serve=not no_serve)


cli.add_command(books)
cli.add_command(vendor)
cli.add_command(dashboard)
cli.add_command(lake)


# Python's collector runs every 700 new container objects by default: loading Dagster, its instance and the
# definitions allocates millions, and the collections cost about 0.3 CPU s of every command. The interpreter's
# teardown then walks the whole heap once more (about 0.5 CPU s) only to free memory the exit frees anyway.
GC_THRESHOLDS = (20_000, 20, 20)


def tune_garbage_collection() -> None:
    """Fewer collections while a command runs, and no scan of the heap at exit. The freeze is registered
    first, so it runs after every other exit handler (they run last-registered first); the teardown then
    skips only the collector's pass: objects are still freed by reference counting, and what only a
    collection would free (reference cycles) goes back with the process's memory. Every file and connection
    is closed by its owner before that, as before."""
    gc.set_threshold(*GC_THRESHOLDS)
    atexit.register(gc.freeze)


def main() -> None:
    from acorn_cli.dbt_core import own_process

    tune_garbage_collection()
    own_process()
    cli()


if __name__ == "__main__":
    main()
