"""`acorn`: the commands users run (DESIGN.md, "Commands users run")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import click

from acorn_cli.environment import prepare_environment
from orchestration.paths import DBT_PROJECT_DIR, REPO_ROOT, data_paths

PROFILES = click.Choice(["clean", "hostile"])


@click.group()
def cli() -> None:
    """ACORN: Amazon seller and vendor finance data, reconciled to the cent."""
    prepare_environment()


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
def demo(profile: str, request_log: Path | None, verbose: bool) -> None:
    """Start the SP-API simulator, run the whole pipeline on it, and print a summary."""
    from acorn_cli.runs import run_job, run_log_path
    from acorn_cli.summary import render_summary

    paths = data_paths().ensure()
    click.echo(f"ACORN demo: simulator profile '{profile}', data in {paths.root}")
    started = time.monotonic()
    report = run_job(
        "acorn_daily", {"resources": {"spapi": _spapi_config(profile, request_log)}}, verbose=verbose
    )
    click.echo(
        f"Dagster run {report.run_id} finished in {time.monotonic() - started:.0f} s "
        f"({'success' if report.success else 'FAILED'})."
    )
    if report.success:
        click.echo(render_summary(paths.warehouse, report.checks))
    else:
        click.echo(f"Run failed: {report.failure}", err=True)
        click.echo(f"Step logs: {run_log_path()} (and the run in `make ui`)", err=True)
        sys.exit(1)


@cli.command(name="import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array, an object per file.")
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
    from acorn_cli.runs import run_job
    from orchestration.settlements.assets import SETTLEMENT_LINES, outcomes_from_metadata

    if not files:
        raise click.UsageError("give at least one settlement file")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise click.UsageError(f"no such file: {', '.join(missing)}")
    if reattribute and account is None:
        raise click.UsageError("--reattribute needs --account: the account the settlements move to")
    if account is not None:
        from orchestration.settlements.accounts import UnknownAccount, check_account_option

        try:
            check_account_option(account)
        except UnknownAccount as error:
            raise click.BadParameter(str(error), param_hint="--account") from error
    data_paths().ensure()
    run_config = {
        "ops": {
            "settlement_reports": {
                "config": {
                    "import_files": [str(f.resolve()) for f in files],
                    "account_id": account,
                    "reattribute": reattribute,
                }
            }
        },
    }
    report = run_job("settlement_import", run_config)
    metadata = report.materializations.get(SETTLEMENT_LINES.to_user_string())
    if not report.success or metadata is None:
        click.echo(f"import failed: {report.failure}", err=True)
        sys.exit(1)
    outcomes = outcomes_from_metadata(metadata)
    if as_json:
        click.echo(json.dumps(outcomes, indent=2))
    else:
        for outcome in outcomes:
            click.echo(
                f"{outcome['status']:<12} {outcome['file']}  settlement {outcome['settlement_id'] or '-'}, "
                f"{outcome['rows']} rows  {outcome['message'] or ''}".rstrip()
            )
    if any(outcome["status"] in ("quarantined", "rejected") for outcome in outcomes):
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every check.")
def build(as_json: bool) -> None:
    """Refresh the marts from the lake (dbt build) and run every check."""
    from acorn_cli.runs import run_job
    from acorn_cli.summary import format_checks

    data_paths().ensure()
    report = run_job("warehouse_build")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "success": report.success,
                    "failure": report.failure,
                    "checks": [check.to_json() for check in report.checks],
                },
                indent=2,
                default=str,
            )
        )
    else:
        click.echo("\n".join(format_checks(report.checks)))
        if report.failure:
            click.echo(f"build failed: {report.failure}", err=True)
    if not report.success:
        sys.exit(1)


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
def simulator(port: int, profile: str, request_log: Path | None, seed: int, time_scale: float) -> None:
    """Run the SP-API simulator alone, in the foreground."""
    from spapi.simulator import run_forever

    run_forever(port, profile=profile, request_log=request_log, seed=seed, time_scale=time_scale)


@cli.command()
def doctor() -> None:
    """Check the config, the credentials, the token exchange and one cheap call per account.

    Exit 0 when every check passed, 1 when one failed, 3 when the config cannot be loaded."""
    from orchestration.outcomes import ExitCode as Exit
    from orchestration.paths import default_config_path
    from spapi.doctor import doctor_report

    report = doctor_report(
        default_config_path(), dict(os.environ), bundled=not os.environ.get("ACORN_CONFIG")
    )
    for line in report.lines():
        click.echo(line)
    if not report.config_loaded:
        sys.exit(int(Exit.COULD_NOT_RUN))
    sys.exit(int(Exit.DATA_PROBLEM if report.failed else Exit.OK))


@cli.command()
@click.option("--port", type=int, default=3000, show_default=True)
def ui(port: int) -> None:
    """Dagster webserver and daemon on 127.0.0.1 over the same DAGSTER_HOME and data."""
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
def docs(port: int) -> None:
    """Generate the dbt docs offline and serve them on 127.0.0.1."""
    paths = data_paths().ensure()
    env = {**os.environ, "ACORN_WAREHOUSE_PATH": str(paths.warehouse), "ACORN_LAKE_DIR": str(paths.lake)}
    dbt = [sys.executable, "-m", "dbt.cli.main"]
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    subprocess.run([*dbt, "docs", "generate", *common], check=True, env=env)
    subprocess.run(
        [*dbt, "docs", "serve", *common, "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
        check=True,
        env=env,
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
