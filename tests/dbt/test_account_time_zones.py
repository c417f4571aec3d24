"""Each account's display time zone is decided once, by the warehouse (`marts.dim_account.time_zone`), and the
dashboard shows its times in that zone: the config's reporting_time_zone, else its first configured
marketplace's, else its region's, else UTC."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from small_lake import build_warehouse

from dashboard.figures import account_time_zones

pytestmark = pytest.mark.slow

ACCOUNTS = [
    # Its own zone wins over its marketplace's.
    {"id": "uk-books-in-dublin", "kind": "seller", "region": "eu", "marketplaces": ["A1F83G8C2ARO7P"],
     "time_zone": "Europe/Dublin"},
    # The first configured marketplace decides, not the alphabet or the region.
    {"id": "uk-then-de", "kind": "seller", "region": "eu", "marketplaces": ["A1F83G8C2ARO7P", "A1PA6795UKMFR9"],
     "time_zone": None},
    {"id": "de-then-uk", "kind": "seller", "region": "eu", "marketplaces": ["A1PA6795UKMFR9", "A1F83G8C2ARO7P"],
     "time_zone": None},
    # No marketplace the seed knows: the region's zone.
    {"id": "japan-vendor", "kind": "vendor", "region": "fe", "marketplaces": [], "time_zone": None},
]  # fmt: skip


def test_the_dashboard_shows_each_account_in_the_zone_the_warehouse_decided(tmp_path: Path) -> None:
    warehouse = build_warehouse(
        tmp_path,
        [],
        *("--select", "+dim_account", "--resource-type", "seed", "--resource-type", "model"),
        *("--vars", json.dumps({"accounts": ACCOUNTS})),
    )
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        zones = account_time_zones(connection)
    assert zones == {
        "uk-books-in-dublin": "Europe/Dublin",
        "uk-then-de": "Europe/London",
        "de-then-uk": "Europe/Berlin",
        "japan-vendor": "Asia/Tokyo",
    }
