"""What the accounts config says about the books, as the dbt vars the journal models read.

Outside the books domain because the warehouse build passes them to dbt (no domain imports another):
- `books_reporting_time_zones`: {account id: IANA time zone} for the accounts that set `reporting_time_zone`
  (the others use their marketplace's, dbt_project/seeds/marketplace_time_zones.csv);
- `books_post_sales_tax`: the config's `[books] post_us_sales_tax` (default true): false nets sales tax collected
  and the marketplace facilitator tax Amazon remits into one line, dropped when it is zero.
A config that does not load gives the defaults: the run reports the config itself where it needs the accounts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestration.paths import default_config_path
from spapi.config import Config, load_config
from spapi.errors import ConfigError


def books_vars_of(config: Config) -> dict[str, Any]:
    """The books' dbt vars from a loaded config. ValueError when `[books] post_us_sales_tax` is no boolean."""
    zones = {
        account.id: account.reporting_time_zone for account in config.accounts if account.reporting_time_zone
    }
    books = config.extra.get("books") or {}
    post = books.get("post_us_sales_tax", True) if isinstance(books, dict) else True
    if not isinstance(post, bool):
        raise ValueError(f"[books] post_us_sales_tax must be true or false (got {post!r})")
    return {"books_reporting_time_zones": dict(sorted(zones.items())), "books_post_sales_tax": post}


def books_dbt_vars(config_path: Path | None = None) -> dict[str, Any]:
    """The books' dbt vars of `config_path` (default: ACORN_CONFIG, else config/demo.toml)."""
    try:
        config = load_config(config_path or default_config_path())
    except ConfigError:
        return {"books_reporting_time_zones": {}, "books_post_sales_tax": True}
    return books_vars_of(config)
