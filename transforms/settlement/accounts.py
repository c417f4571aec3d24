"""Which seller account a settlement file belongs to, when the person importing it did not say.

A settlement report carries no seller id, only `marketplace-name` on its lines (`Amazon.com`, `Amazon.de`,
`amazon.co.uk`, ...). Those names map to marketplace ids through the `marketplaces` seed
(`dbt_project/seeds/marketplaces.csv`), and the accounts config lists each account's marketplaces, so:

- the file's marketplaces all belong to exactly one seller account: that account;
- to none, or to several: refused, naming the candidates (the person passes `--account`);
- the file names no marketplace (older-layout files often do not): only a config with exactly one seller
  account allows inference.

Names that are not marketplaces are ignored when the file also names a marketplace (`SI CA Prod Marketplace`
style internal names); `Non-Amazon XX` (multi-channel fulfilment orders) counts as country XX's marketplace.
An account that lists no marketplaces claims every marketplace of its region.

Pure Python: the accounts are anything with `id`, `kind`, `region` and `marketplaces` (spapi's
`AccountConfig`, or `SellerAccount` here).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

MARKETPLACES_SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "marketplaces.csv"
_NON_AMAZON = re.compile(r"non-amazon\s+([a-z]{2})")
# Country codes Amazon writes that are not ISO 3166 (the seed's).
_COUNTRY_ALIASES = {"UK": "GB"}


class AccountLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def marketplaces(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class SellerAccount:
    """An account as far as resolution cares (tests and callers without a config object)."""

    id: str
    region: str
    marketplaces: tuple[str, ...] = ()
    kind: str = "seller"


@dataclass(frozen=True)
class Marketplace:
    id: str
    name: str
    country_code: str
    region: str

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class UnknownAccount(ValueError):
    """`--account` names no seller account of the config. Raised before anything is archived."""


@dataclass(frozen=True)
class Resolution:
    """The account a file belongs to (`account_id`), or None and `message` saying why not and what to do."""

    account_id: str | None
    message: str
    candidates: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.account_id is not None


@lru_cache(maxsize=1)
def marketplaces() -> dict[str, Marketplace]:
    """The marketplaces seed, by marketplace id."""
    with open(MARKETPLACES_SEED, encoding="utf-8", newline="") as seed:
        rows = list(csv.DictReader(seed))
    return {
        row["marketplace_id"]: Marketplace(
            row["marketplace_id"], row["marketplace_name"], row["country_code"], row["region"]
        )
        for row in rows
    }


@lru_cache(maxsize=256)
def marketplace_for_name(name: str) -> Marketplace | None:
    """The marketplace a settlement file's `marketplace-name` value stands for (case-insensitive), or None."""
    key = name.strip().lower().removeprefix("www.")
    if not key:
        return None
    by_name = {m.name.lower(): m for m in marketplaces().values()}
    if key in by_name:
        return by_name[key]
    if key.upper() in marketplaces():  # a marketplace id written where the name goes
        return marketplaces()[key.upper()]
    non_amazon = _NON_AMAZON.fullmatch(key)
    if non_amazon:
        country = non_amazon.group(1).upper()
        country = _COUNTRY_ALIASES.get(country, country)
        return next((m for m in marketplaces().values() if m.country_code == country), None)
    return None


def _claims(account: AccountLike, marketplace: Marketplace) -> bool:
    if account.marketplaces:
        return marketplace.id in account.marketplaces
    return account.region == marketplace.region


def _describe(account: AccountLike) -> str:
    listed = ", ".join(account.marketplaces) if account.marketplaces else f"any {account.region} marketplace"
    return f"{account.id} ({listed})"


def resolve_account(
    marketplace_names: Iterable[str | None], accounts: Sequence[AccountLike], *, source: str = "the config"
) -> Resolution:
    """The seller account whose marketplaces hold every marketplace the file names (see the module).

    `marketplace_names`: the file's `marketplace-name` values (blanks and repeats are fine; empty when the file
    has no such column). `source` names the config in messages."""
    sellers = [account for account in accounts if account.kind == "seller"]
    seller_ids = tuple(account.id for account in sellers)
    names = sorted({name.strip() for name in marketplace_names if name and name.strip()})
    if not sellers:
        return Resolution(None, f"{source} has no seller account: add one, or pass --account")
    if not names:
        if len(sellers) == 1:
            return Resolution(
                sellers[0].id,
                f"the file names no marketplace; {sellers[0].id!r} is the only seller account in {source}",
                seller_ids,
            )
        return Resolution(
            None,
            f"the file names no marketplace (no marketplace-name on its lines), so its account cannot be "
            f"told among the seller accounts of {source}: {', '.join(seller_ids)}; pass --account",
            seller_ids,
        )
    found = {name: marketplace_for_name(name) for name in names}
    known = sorted({m for m in found.values() if m is not None}, key=lambda m: m.id)
    if not known:
        return Resolution(
            None,
            f"marketplace-name {', '.join(map(repr, names))} is no marketplace ACORN knows "
            f"(dbt_project/seeds/marketplaces.csv), so its account cannot be inferred among "
            f"{', '.join(seller_ids)}; pass --account",
            seller_ids,
        )
    shown = ", ".join(map(str, known))
    candidates = [a for a in sellers if all(_claims(a, marketplace) for marketplace in known)]
    if len(candidates) == 1:
        ignored = [name for name, m in found.items() if m is None]
        note = f" (ignored: {', '.join(map(repr, ignored))})" if ignored else ""
        return Resolution(
            candidates[0].id,
            f"account {candidates[0].id!r} inferred from the file's marketplace {shown}{note}",
            (candidates[0].id,),
        )
    if not candidates:
        return Resolution(
            None,
            f"no seller account in {source} lists marketplace {shown}; the seller accounts are "
            f"{'; '.join(_describe(a) for a in sellers)}: add the marketplace to the right account's "
            f"`marketplaces`, or pass --account",
            seller_ids,
        )
    ids = tuple(a.id for a in candidates)
    return Resolution(
        None,
        f"marketplace {shown} belongs to more than one seller account in {source}: {', '.join(ids)}; "
        f"pass --account ({' or '.join(f'--account {i}' for i in ids)})",
        ids,
    )


class AccountDirectory:
    """The accounts of one config, for imports: checks an `--account` and infers one from marketplaces."""

    def __init__(self, accounts: Sequence[AccountLike], *, source: str = "the config") -> None:
        self.accounts = tuple(accounts)
        self.source = source

    @property
    def seller_ids(self) -> tuple[str, ...]:
        return tuple(a.id for a in self.accounts if a.kind == "seller")

    def check(self, account_id: str) -> str:
        """`account_id` if it is a seller account of the config, else UnknownAccount naming the known ones."""
        known = ", ".join(self.seller_ids) or "none"
        for account in self.accounts:
            if account.id == account_id:
                if account.kind != "seller":
                    raise UnknownAccount(
                        f"account {account_id!r} is a {account.kind} account in {self.source}; settlement "
                        f"reports belong to seller accounts: {known}"
                    )
                return account_id
        raise UnknownAccount(
            f"unknown account {account_id!r}: the seller accounts in {self.source} are {known}"
        )

    def resolve(self, marketplace_names: Iterable[str | None]) -> Resolution:
        return resolve_account(marketplace_names, self.accounts, source=self.source)


__all__ = [
    "AccountDirectory",
    "Marketplace",
    "Resolution",
    "SellerAccount",
    "UnknownAccount",
    "marketplace_for_name",
    "resolve_account",
]
