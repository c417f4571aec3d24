"""`acorn dashboard`: the analyst's web app over the marts (dashboard/), on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import sys

import click

from dashboard.server import DEFAULT_ADDRESS, DEFAULT_PORT, streamlit_command, streamlit_environment
from orchestration.paths import data_paths


@click.command()
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True)
@click.option(
    "--address",
    default=DEFAULT_ADDRESS,
    show_default=True,
    help="Interface to listen on. Anything but 127.0.0.1 exposes the data: put authentication in front first "
    "(README, 'Dashboard').",
)
def dashboard(port: int, address: str) -> None:
    """Income, money held, payouts, fees, refunds, checks and vendor orders from the published marts, read
    from a snapshot (a build is never blocked)."""
    from orchestration.warehouse_catalog import configured_warehouse

    warehouse = data_paths().warehouse
    if configured_warehouse(warehouse) is None and not warehouse.exists():
        click.echo(
            f"no warehouse at {warehouse} yet: it shows once `acorn demo` or `acorn run` builds it", err=True
        )
    if address != DEFAULT_ADDRESS:
        click.echo(
            f"listening on {address}: anyone who can reach it sees the data (no authentication)", err=True
        )
    click.echo(f"ACORN dashboard on http://{address}:{port} (Ctrl-C to stop)", err=True)
    os.execvpe(  # noqa: S606 (replaces this process with Streamlit's server; no shell involved)
        sys.executable, streamlit_command(port=port, address=address), streamlit_environment()
    )
