"""`acorn docs`: dbt's docs of the warehouse, generated offline and served on 127.0.0.1.

Embedded: from the warehouse file. Scale-out (ACORN_WAREHOUSE_CATALOG_URL set, README "Scale-out"): from the
DuckLake catalog at its last published build (`dbt docs generate --target ducklake`, the snapshot handed to the
dbt-duckdb plugin in `ACORN_WAREHOUSE_SNAPSHOT`), so the docs describe what readers read, never a build in
progress. The plugin brings the secrets from the environment as for a build: nothing new is stored, and no
password or key reaches dbt's command line, its logs or the generated files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from orchestration.paths import DBT_PROJECT_DIR

DUCKLAKE_TARGET = "ducklake"


def docs_command(warehouse: Path, *, port: int, serve: bool) -> None:
    from orchestration.ducklake_dbt_plugin import SNAPSHOT_VAR
    from orchestration.outcomes import ExitCode
    from orchestration.warehouse_catalog import CouldNotRun, configured_warehouse, published_build

    env = {**os.environ, "ACORN_WAREHOUSE_PATH": str(warehouse)}
    env.pop(SNAPSHOT_VAR, None)
    target: list[str] = []
    try:
        catalog = configured_warehouse(warehouse)
        if catalog is not None:
            build = published_build(catalog)
            env[SNAPSHOT_VAR] = str(build.snapshot)
            target = ["--target", DUCKLAKE_TARGET]
            click.echo(
                f"docs of the warehouse's {catalog.shown} at its last published build (run {build.run_id}, "
                f"snapshot {build.snapshot})",
                err=True,
            )
    except CouldNotRun as error:
        click.echo(f"could not run: {error}", err=True)
        sys.exit(int(ExitCode.COULD_NOT_RUN))
    dbt = [sys.executable, "-m", "dbt.cli.main"]
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), *target]
    subprocess.run([*dbt, "docs", "generate", *common], check=True, env=env)
    if not serve:
        click.echo(f"generated {DBT_PROJECT_DIR / 'target' / 'index.html'}", err=True)
        return
    subprocess.run(
        [*dbt, "docs", "serve", *common, "--host", "127.0.0.1", "--port", str(port), "--no-browser"],
        check=True,
        env=env,
    )
