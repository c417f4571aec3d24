"""The accounts config as dbt sees it: var `accounts` of every build, from which `marts.dim_account` lists every
configured account (its type, region, marketplaces and time zone), whether or not it has data yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestration.paths import default_config_path
from spapi.config import load_config
from spapi.errors import ConfigError


def configured_accounts(config_path: Path | None = None) -> list[dict[str, Any]]:
    """Each account of the config (ACORN_CONFIG, else the demo's) as plain JSON; none when it does not load
    (a build of imported files needs no config: dim_account then lists the accounts the data names)."""
    try:
        config = load_config(config_path or default_config_path())
    except ConfigError:
        return []
    return [
        {
            "id": account.id,
            "kind": account.kind,
            "region": account.region,
            "marketplaces": list(account.marketplaces),
            "time_zone": account.reporting_time_zone,
        }
        for account in config.accounts
    ]
