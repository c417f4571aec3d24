"""The accounts an import may land settlements for: the accounts config, as `transforms.settlement.accounts`
uses it (checking `--account`, inferring an account from a file's marketplaces).

`acorn import` checks `--account` with `check_account_option` before it starts a run (an unknown account is a
usage error, exit 2); the asset checks again (`import_accounts(...).check`) before it archives anything, so
run config given by hand and the inbox sensor are covered too.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.paths import REPO_ROOT, default_config_path
from spapi.config import load_config
from spapi.errors import ConfigError
from transforms.settlement.accounts import AccountDirectory, UnknownAccount

__all__ = ["AccountDirectory", "UnknownAccount", "check_account_option", "import_accounts"]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def import_accounts(config_path: Path | None = None) -> AccountDirectory:
    """The accounts of `config_path` (default: ACORN_CONFIG, else config/demo.toml). Raises ConfigError for a
    config that does not load."""
    path = config_path or default_config_path()
    return AccountDirectory(load_config(path).accounts, source=_shown(path))


def check_account_option(account_id: str, config_path: Path | None = None) -> None:
    """UnknownAccount when `account_id` is no seller account of the config. A config that does not load is
    left to the run, which reports it as one that could not run."""
    try:
        accounts = import_accounts(config_path)
    except ConfigError:
        return
    accounts.check(account_id)
