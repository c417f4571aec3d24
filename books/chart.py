"""The chart map a user edits (config/books/chart.toml): for each ledger, ACORN's ledger-neutral account keys and
tax keys -> that ledger's account (a Xero code, a QuickBooks Online `Parent:Sub` name, a beancount or hledger
account name) and tax rate.

Two default profiles, `us` and `uk_eu`; a journal's profile is its account's override (`[accounts.<id>]`), else
the profile its currency names (`[profile_by_currency]`), else `default_profile`. A key may end in `*` to map a
family of keys (one bank account per marketplace: `bank_amazon_*`), its value naming the matched part as
`{suffix}` or `{SUFFIX}` (upper-cased). A key the chart does not map is an error that names the key, the ledger
and the profile: the export refuses rather than guess an account.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.paths import REPO_ROOT

LEDGERS = ("xero", "qbo", "beancount", "hledger")
DEFAULT_CHART = REPO_ROOT / "config" / "books" / "chart.toml"
BEANCOUNT_ACCOUNT = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")


class ChartError(ValueError):
    """The chart map is unreadable or malformed."""


class ChartGap(ChartError):
    """The chart map does not map a key a journal needs (or maps it to a name the ledger refuses)."""


def chart_path() -> Path:
    """ACORN_BOOKS_CHART when set, else config/books/chart.toml."""
    chosen = os.environ.get("ACORN_BOOKS_CHART")
    return Path(chosen).expanduser().resolve() if chosen else DEFAULT_CHART


@dataclass(frozen=True)
class LedgerMap:
    """One profile's map for one ledger."""

    ledger: str
    profile: str
    accounts: dict[str, str]
    tax_rates: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)

    def account(self, key: str) -> str:
        name = self._lookup(self.accounts, key, "account")
        if self.ledger == "beancount" and not BEANCOUNT_ACCOUNT.match(name):
            raise ChartGap(
                f"the chart map gives account key {key!r} the beancount account {name!r} (profile "
                f"{self.profile!r}), which beancount refuses: Assets|Liabilities|Equity|Income|Expenses, then "
                ":Parts starting with a capital letter or digit"
            )
        return name

    def tax_rate(self, key: str) -> str:
        return self._lookup(self.tax_rates, key, "tax")

    def _lookup(self, table: dict[str, str], key: str, what: str) -> str:
        if key in table:
            return table[key]
        for pattern in sorted((p for p in table if p.endswith("*")), key=len, reverse=True):
            prefix = pattern[:-1]
            if key.startswith(prefix) and len(key) > len(prefix):
                suffix = key[len(prefix) :]
                return table[pattern].replace("{suffix}", suffix).replace("{SUFFIX}", suffix.upper())
        raise ChartGap(
            f"the chart map has no {self.ledger} {what} for {what} key {key!r} in profile {self.profile!r}: "
            f"add it under [profiles.{self.profile}.{self.ledger}.{'accounts' if what == 'account' else 'tax_rates'}]"
        )

    def setting(self, name: str, default: Any = None) -> Any:
        return self.settings.get(name, default)


@dataclass(frozen=True)
class Chart:
    """The whole chart map file."""

    profiles: dict[str, dict[str, LedgerMap]]
    profile_by_currency: dict[str, str]
    default_profile: str
    account_overrides: dict[str, dict[str, Any]]
    source: Path

    def profile_for(self, account_id: str, currency: str) -> str:
        override = self.account_overrides.get(account_id, {}).get("profile")
        return str(override or self.profile_by_currency.get(currency) or self.default_profile)

    def ledger(self, ledger: str, account_id: str, currency: str) -> LedgerMap:
        profile = self.profile_for(account_id, currency)
        try:
            return self.profiles[profile][ledger]
        except KeyError:
            raise ChartError(
                f"{self.source}: no [profiles.{profile}.{ledger}] (account {account_id})"
            ) from None

    def account_setting(self, account_id: str, name: str) -> Any:
        return self.account_overrides.get(account_id, {}).get(name)


def load_chart(path: Path | None = None) -> Chart:
    path = path or chart_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChartError(f"no chart map at {path} (copy config/books/chart.toml there)") from None
    except tomllib.TOMLDecodeError as error:
        raise ChartError(f"{path} is not valid TOML: {error}") from None
    profiles: dict[str, dict[str, LedgerMap]] = {}
    for profile, ledgers in data.get("profiles", {}).items():
        profiles[profile] = {}
        for ledger, table in ledgers.items():
            if ledger not in LEDGERS:
                raise ChartError(f"{path}: [profiles.{profile}.{ledger}]: unknown ledger (one of {LEDGERS})")
            settings = {k: v for k, v in table.items() if k not in ("accounts", "tax_rates")}
            ledger_map = LedgerMap(
                ledger, profile, dict(table.get("accounts", {})), dict(table.get("tax_rates", {})), settings
            )
            profiles[profile][ledger] = ledger_map
    default_profile = str(data.get("default_profile", "us"))
    if default_profile not in profiles:
        raise ChartError(
            f"{path}: default_profile {default_profile!r} is not one of the profiles {sorted(profiles)}"
        )
    return Chart(
        profiles=profiles,
        profile_by_currency=dict(data.get("profile_by_currency", {})),
        default_profile=default_profile,
        account_overrides=dict(data.get("accounts", {})),
        source=path,
    )
