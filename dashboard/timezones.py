"""The time zone each account's times are shown in: its config's `reporting_time_zone`, else its first marketplace's
(the marketplace_time_zones seed). Storage stays UTC everywhere."""

from __future__ import annotations

import csv

from orchestration.paths import DBT_PROJECT_DIR
from spapi.config import AccountConfig


def _marketplace_time_zones() -> dict[str, str]:
    """Marketplace id -> the zone Amazon reports it in: the dbt seed the books' month parts use too, so an
    account's dashboard and its books agree on what "a day" and "a month" are."""
    with open(DBT_PROJECT_DIR / "seeds" / "marketplace_time_zones.csv", newline="", encoding="utf-8") as seed:
        return {row["marketplace_id"]: row["time_zone"] for row in csv.DictReader(seed)}


MARKETPLACE_TIME_ZONES = _marketplace_time_zones()
REGION_TIME_ZONES = {"na": "America/Los_Angeles", "eu": "Europe/Berlin", "fe": "Asia/Tokyo"}


def account_time_zone(account: AccountConfig) -> str:
    if account.reporting_time_zone:
        return account.reporting_time_zone
    for marketplace in account.marketplaces:
        if marketplace in MARKETPLACE_TIME_ZONES:
            return MARKETPLACE_TIME_ZONES[marketplace]
    return REGION_TIME_ZONES.get(account.region, "UTC")


def view_time_zone(accounts: list[AccountConfig], selected: str | None) -> str:
    """The zone of the selected account; with all accounts, theirs when they share one, else UTC."""
    zones = {account_time_zone(a) for a in accounts if selected is None or a.id == selected}
    return zones.pop() if len(zones) == 1 else "UTC"
