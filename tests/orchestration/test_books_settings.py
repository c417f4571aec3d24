"""The accounts config's books settings become the dbt vars the journal models read."""

from __future__ import annotations

import pytest

from orchestration.books_settings import books_vars_of
from spapi.config import ConfigValueError, parse_config

ACCOUNT = {"id": "uk-store", "kind": "seller", "region": "eu", "marketplaces": ["A1F83G8C2ARO7P"]}


def test_an_account_time_zone_and_the_sales_tax_setting_reach_dbt() -> None:
    config = parse_config(
        {
            "accounts": [
                {**ACCOUNT, "reporting_time_zone": "Europe/London"},
                {**ACCOUNT, "id": "us-store", "region": "na", "marketplaces": ["ATVPDKIKX0DER"]},
            ],
            "books": {"post_us_sales_tax": False},
        }
    )
    assert books_vars_of(config) == {
        "books_reporting_time_zones": {"uk-store": "Europe/London"},
        "books_post_sales_tax": False,
    }


def test_defaults_post_sales_tax_and_use_the_marketplace_time_zone() -> None:
    assert books_vars_of(parse_config({"accounts": [ACCOUNT]})) == {
        "books_reporting_time_zones": {},
        "books_post_sales_tax": True,
    }


def test_an_unknown_time_zone_or_a_non_boolean_setting_is_refused() -> None:
    with pytest.raises(ConfigValueError, match="unknown time zone 'Europe/Londn'"):
        parse_config({"accounts": [{**ACCOUNT, "reporting_time_zone": "Europe/Londn"}]})
    with pytest.raises(ValueError, match="post_us_sales_tax must be true or false"):
        books_vars_of(parse_config({"accounts": [ACCOUNT], "books": {"post_us_sales_tax": "no"}}))
