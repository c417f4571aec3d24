"""The time zone a page's times are shown in. Each account's zone is `marts.dim_account.time_zone`, the rule the
warehouse applies once for every reader (the config's `reporting_time_zone`, else its first marketplace's, else
its region's, else UTC); storage stays UTC everywhere."""

from __future__ import annotations

from collections.abc import Mapping


def view_time_zone(account_zones: Mapping[str, str], selected: str | None) -> str:
    """The zone of the selected account; with all accounts, theirs when they share one, else UTC (an account
    the warehouse does not know yet is shown in UTC)."""
    if selected is not None:
        return account_zones.get(selected) or "UTC"
    zones = {zone for zone in account_zones.values() if zone}
    return zones.pop() if len(zones) == 1 else "UTC"
