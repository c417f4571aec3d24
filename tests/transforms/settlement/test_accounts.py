"""Which seller account a settlement file belongs to, from its marketplaces and the accounts config."""

from __future__ import annotations

import pytest

from orchestration.paths import REPO_ROOT
from spapi.config import load_config
from transforms.settlement.accounts import (
    AccountDirectory,
    SellerAccount,
    UnknownAccount,
    marketplace_for_name,
    resolve_account,
)

US, CA, DE, FR, UK, JP = (
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1PA6795UKMFR9",
    "A13V1IB3VIYZZH",
    "A1F83G8C2ARO7P",
    "A1VC38T7YXB528",
)
NA = SellerAccount("store-na", "na", (US, CA))
EU = SellerAccount("store-eu", "eu", (DE, FR))
VENDOR = SellerAccount("vendor-na", "na", (US,), kind="vendor")


@pytest.mark.parametrize(
    ("name", "marketplace_id"),
    [
        ("Amazon.com", US),
        ("amazon.com", US),  # as the V2 sample writes it
        ("Amazon.de", DE),
        ("amazon.co.uk", UK),
        (" Amazon.co.jp ", JP),
        ("www.amazon.ca", CA),
        ("Non-Amazon CA", CA),  # multi-channel fulfilment orders of the Amazon.ca account
        ("Non-Amazon UK", UK),
        ("SI CA Prod Marketplace", None),
        ("", None),
    ],
)
def test_marketplace_names_map_to_the_seed_ids(name: str, marketplace_id: str | None) -> None:
    found = marketplace_for_name(name)
    assert (found.id if found else None) == marketplace_id


def test_one_account_per_marketplace_is_inferred() -> None:
    accounts = [NA, EU, VENDOR]
    assert resolve_account(["Amazon.de", "", None, "Amazon.de"], accounts).account_id == "store-eu"
    chosen = resolve_account(["Amazon.ca", "Non-Amazon CA", "SI CA Prod Marketplace"], accounts)
    assert chosen.account_id == "store-na"
    assert "Amazon.ca (A2EUQ1WTGCTBG2)" in chosen.message and "SI CA Prod Marketplace" in chosen.message


def test_two_accounts_sharing_a_marketplace_are_refused_naming_both() -> None:
    second_us = SellerAccount("store-us-2", "na", (US,))
    refused = resolve_account(["Amazon.com"], [NA, second_us, EU], source="accounts.toml")
    assert refused.account_id is None and not refused.ok
    assert refused.candidates == ("store-na", "store-us-2")
    assert "store-na" in refused.message and "store-us-2" in refused.message
    assert "--account" in refused.message and "accounts.toml" in refused.message
    # Amazon.ca is only store-na's: a file naming both goes there.
    assert resolve_account(["Amazon.com", "Amazon.ca"], [NA, second_us]).account_id == "store-na"


def test_a_marketplace_no_account_lists_is_refused() -> None:
    refused = resolve_account(["Amazon.co.uk"], [NA, EU])
    assert refused.account_id is None
    assert "Amazon.co.uk (A1F83G8C2ARO7P)" in refused.message
    assert "store-na" in refused.message and "store-eu" in refused.message and "--account" in refused.message
    # Marketplaces of two accounts in one file: neither account lists both.
    assert resolve_account(["Amazon.com", "Amazon.de"], [NA, EU]).account_id is None


def test_vendor_accounts_never_receive_settlements() -> None:
    assert resolve_account(["Amazon.com"], [VENDOR]).account_id is None
    assert resolve_account(["Amazon.com"], [VENDOR, NA]).account_id == "store-na"


def test_a_file_naming_no_marketplace_needs_a_single_seller_account() -> None:
    assert resolve_account([], [NA, VENDOR]).account_id == "store-na"
    assert resolve_account(["", "  "], [NA]).account_id == "store-na"
    refused = resolve_account([], [NA, EU])
    assert refused.account_id is None and refused.candidates == ("store-na", "store-eu")
    assert "names no marketplace" in refused.message and "--account" in refused.message


def test_only_unknown_names_are_refused() -> None:
    refused = resolve_account(["SI CA Prod Marketplace"], [NA])
    assert refused.account_id is None and "SI CA Prod Marketplace" in refused.message


def test_an_account_listing_no_marketplaces_claims_its_region() -> None:
    anywhere_eu = SellerAccount("eu-any", "eu")
    assert resolve_account(["Amazon.fr"], [NA, anywhere_eu]).account_id == "eu-any"
    assert resolve_account(["Amazon.com"], [anywhere_eu]).account_id is None


def test_unknown_account_names_the_known_ones() -> None:
    directory = AccountDirectory([NA, EU, VENDOR], source="config/demo.toml")
    assert directory.check("store-eu") == "store-eu"
    with pytest.raises(UnknownAccount) as unknown:
        directory.check("no-such-account")
    assert isinstance(unknown.value, ValueError)
    assert "no-such-account" in str(unknown.value) and "store-na, store-eu" in str(unknown.value)
    assert "config/demo.toml" in str(unknown.value)
    with pytest.raises(UnknownAccount, match="vendor account"):
        directory.check("vendor-na")


def test_the_demo_config_resolves_like_the_simulator_ledger() -> None:
    directory = AccountDirectory(load_config(REPO_ROOT / "config" / "demo.toml").accounts)
    assert directory.resolve(["Amazon.com"]).account_id == "demo-na"
    assert directory.resolve(["Amazon.ca"]).account_id == "demo-na"
    assert directory.resolve(["Amazon.de"]).account_id == "demo-eu"
    assert directory.resolve(["Amazon.fr"]).account_id == "demo-eu"
    assert directory.resolve([]).account_id is None
