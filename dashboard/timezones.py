"""The time zone each account's times are shown in: its config's `reporting_time_zone`, else its first marketplace's
(where Amazon's own Seller Central shows that marketplace's dates). Storage stays UTC everywhere."""

from __future__ import annotations

from spapi.config import AccountConfig

# Marketplace id -> the zone Seller Central uses for it (the US and Canadian stores share Pacific time).
MARKETPLACE_TIME_ZONES = {
    "ATVPDKIKX0DER": "America/Los_Angeles",  # Amazon.com
    "A2EUQ1WTGCTBG2": "America/Los_Angeles",  # Amazon.ca
    "A1AM78C64UM0Y8": "America/Mexico_City",  # Amazon.com.mx
    "A2Q3Y263D00KWC": "America/Sao_Paulo",  # Amazon.com.br
    "A1F83G8C2ARO7P": "Europe/London",  # Amazon.co.uk
    "A1PA6795UKMFR9": "Europe/Berlin",  # Amazon.de
    "A13V1IB3VIYZZH": "Europe/Paris",  # Amazon.fr
    "APJ6JRA9NG5V4": "Europe/Rome",  # Amazon.it
    "A1RKKUPIHCS9HS": "Europe/Madrid",  # Amazon.es
    "A1805IZSGTT6HS": "Europe/Amsterdam",  # Amazon.nl
    "AMEN7PMS3EDWL": "Europe/Brussels",  # Amazon.com.be
    "A28R8C7NBKEWEA": "Europe/Dublin",  # Amazon.ie
    "A2NODRKZP88ZB9": "Europe/Stockholm",  # Amazon.se
    "A1C3SOZRARQ6R3": "Europe/Warsaw",  # Amazon.pl
    "A33AVAJ2PDY3EV": "Europe/Istanbul",  # Amazon.com.tr
    "A2VIGQ35RCS4UG": "Asia/Dubai",  # Amazon.ae
    "A17E79C6D8DWNP": "Asia/Riyadh",  # Amazon.sa
    "ARBP9OOSHTCHU": "Africa/Cairo",  # Amazon.eg
    "A21TJRUUN4KGV": "Asia/Kolkata",  # Amazon.in
    "A1VC38T7YXB528": "Asia/Tokyo",  # Amazon.co.jp
    "A39IBJ37TRP1C6": "Australia/Sydney",  # Amazon.com.au
    "A19VAU5U5O7RUS": "Asia/Singapore",  # Amazon.sg
}
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
