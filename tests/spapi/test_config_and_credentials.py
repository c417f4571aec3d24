"""Accounts config, endpoints and credentials from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from spapi_testkit import REPO_ROOT

from spapi.config import LWA_TOKEN_URL, AccountConfig, load_config, resolve_endpoints
from spapi.credentials import LwaCredentials, credentials_from_env
from spapi.errors import ConfigError, CredentialsError

CONFIG = """
[simulator]
enabled = true

[[accounts]]
id = "demo-na"
kind = "seller"
region = "na"
marketplaces = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
event_source = "both"

[[accounts]]
id = "demo-vendor"
kind = "vendor"
region = "eu"
marketplaces = ["A1PA6795UKMFR9"]
environment = "sandbox"
spapi_endpoint = "http://127.0.0.1:8001/"
lwa_endpoint = "http://127.0.0.1:8000/auth/o2/token"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    return path


def test_load_config_reads_accounts_defaults_and_other_tables(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, CONFIG))
    seller, vendor = config.accounts
    assert (seller.id, seller.kind, seller.region, seller.environment) == (
        "demo-na",
        "seller",
        "na",
        "production",
    )
    assert seller.marketplaces == ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")
    assert seller.reads_transactions and seller.reads_v0_events
    assert vendor.event_source == "transactions"  # the default for new accounts
    assert vendor.env_suffix == "DEMO_VENDOR"
    assert config.extra == {"simulator": {"enabled": True}}
    assert config.account("demo-vendor") is vendor


@pytest.mark.parametrize("name", ["demo.toml", "accounts.example.toml"])
def test_the_repositorys_own_configs_load(name: str) -> None:
    # A missing file fails here too (load_config raises ConfigFileMissing): the README points at both.
    assert load_config(REPO_ROOT / "config" / name).accounts


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[[accounts]]\nid = "Demo NA"\nregion = "na"\n', "lowercase"),
        ('[[accounts]]\nid = "x1"\nregion = "us"\n', "region"),
        ('[[accounts]]\nid = "x1"\nregion = "na"\nkind = "buyer"\n', "kind"),
        ('[[accounts]]\nid = "a-b"\nregion = "na"\n[[accounts]]\nid = "a_b"\nregion = "eu"\n', "duplicate"),
        ('[[accounts]]\nid = "x1"\nregion = "na"\nregoin = "eu"\n', "regoin"),
        ("[[accounts]\n", "TOML"),
    ],
)
def test_invalid_configs_are_rejected_with_the_reason(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(_write(tmp_path, text))
    assert complaint in str(raised.value)
    assert str(tmp_path) in str(raised.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_resolve_endpoints_regions_sandbox_and_overrides(tmp_path: Path) -> None:
    seller, vendor = load_config(_write(tmp_path, CONFIG)).accounts
    assert resolve_endpoints(seller).spapi == "https://sellingpartnerapi-na.amazon.com"
    assert resolve_endpoints(seller).lwa == LWA_TOKEN_URL
    eu = AccountConfig(id="e", region="eu")
    fe_sandbox = AccountConfig(id="f", region="fe", environment="sandbox")
    assert resolve_endpoints(eu).spapi == "https://sellingpartnerapi-eu.amazon.com"
    assert resolve_endpoints(fe_sandbox).spapi == "https://sandbox.sellingpartnerapi-fe.amazon.com"
    # The account's own override beats the regional default (trailing slash dropped)...
    assert resolve_endpoints(vendor).spapi == "http://127.0.0.1:8001"
    assert resolve_endpoints(vendor).lwa == "http://127.0.0.1:8000/auth/o2/token"
    # ...and the per-region overrides the demo passes beat both.
    overrides = {
        "na": "http://127.0.0.1:9001",
        "eu": "http://127.0.0.1:9002",
        "lwa": "http://127.0.0.1:9000/t",
    }
    assert resolve_endpoints(seller, overrides).spapi == "http://127.0.0.1:9001"
    assert resolve_endpoints(vendor, overrides).spapi == "http://127.0.0.1:9002"
    assert resolve_endpoints(vendor, overrides).lwa == "http://127.0.0.1:9000/t"


def test_credentials_prefer_the_per_account_refresh_token() -> None:
    env = {
        "SPAPI_LWA_CLIENT_ID": "client-id",
        "SPAPI_LWA_CLIENT_SECRET": "secret-value-123",
        "SPAPI_REFRESH_TOKEN": "Atzr|shared-token",
        "SPAPI_REFRESH_TOKEN__DEMO_NA": "Atzr|demo-na-token",
    }
    assert credentials_from_env("demo-na", env).refresh_token.reveal() == "Atzr|demo-na-token"
    assert credentials_from_env("demo-eu", env).refresh_token.reveal() == "Atzr|shared-token"
    credentials = credentials_from_env("demo-na", env)
    assert credentials.client_secret.reveal() == "secret-value-123"
    assert "secret-value-123" not in repr(credentials) and "demo-na-token" not in repr(credentials)
    assert "secret-value-123" not in str(credentials)


def test_missing_credentials_name_the_variables_not_values() -> None:
    with pytest.raises(CredentialsError) as raised:
        credentials_from_env("demo-na", {"SPAPI_LWA_CLIENT_SECRET": "secret-value-456"})
    text = str(raised.value)
    assert "SPAPI_LWA_CLIENT_ID" in text and "SPAPI_REFRESH_TOKEN__DEMO_NA" in text
    assert "SPAPI_LWA_CLIENT_SECRET" not in text  # present, so not reported
    assert "secret-value-456" not in text


def test_fallback_fills_only_what_the_environment_lacks() -> None:
    fallback = LwaCredentials("demo-client", "demo-secret-000", "Atzr|demo-refresh")
    assert credentials_from_env("demo-na", {}, fallback=fallback) == fallback
    mixed = credentials_from_env("demo-na", {"SPAPI_REFRESH_TOKEN": "Atzr|real-one"}, fallback=fallback)
    assert mixed.refresh_token.reveal() == "Atzr|real-one"
    assert mixed.client_id == "demo-client"
