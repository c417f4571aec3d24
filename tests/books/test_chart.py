"""The default chart map maps every account key and tax key the posting rules can produce (books-model's seeds),
in every profile and ledger, to a name the ledger accepts; and the user's edits take effect."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from books.chart import LEDGERS, ChartError, ChartGap, load_chart

SEEDS = Path(__file__).parents[2] / "dbt_project" / "seeds"


def seed_keys() -> tuple[set[str], set[str]]:
    with (SEEDS / "books_default_chart.csv").open() as file:
        accounts = {row["account_key"] for row in csv.DictReader(file)}
    with (SEEDS / "posting_rules.csv").open() as file:
        rules = list(csv.DictReader(file))
    accounts |= {row["account_key"] for row in rules if not row["account_key"].startswith("{")}
    return accounts, {row["tax_key"] for row in rules} | {"no_tax"}


@pytest.mark.parametrize("ledger", LEDGERS)
def test_the_default_chart_maps_every_key_the_rules_produce(ledger: str) -> None:
    accounts, taxes = seed_keys()
    assert {"bank_amazon_us", "card_amazon_de", "amazon_sales", "amazon_deferred_balances"} <= accounts
    chart = load_chart()
    for profile in ("us", "uk_eu"):
        mapping = chart.profiles[profile][ledger]
        names = {key: mapping.account(key) for key in sorted(accounts)}
        assert all(names.values())
        for key in taxes:
            mapping.tax_rate(key)
        if ledger == "xero":
            assert all(len(code) <= 10 for code in names.values()), names


def test_profiles_follow_the_currency_unless_the_account_says_otherwise(tmp_path: Path) -> None:
    chart = load_chart()
    assert chart.profile_for("any", "USD") == "us"
    assert chart.profile_for("any", "EUR") == "uk_eu"
    assert chart.profile_for("any", "JPY") == "us"  # default_profile
    edited = tmp_path / "chart.toml"
    edited.write_text(
        chart.source.read_text() + '\n[accounts."acme-us"]\nprofile = "uk_eu"\nxero_base_currency = "EUR"\n'
    )
    mine = load_chart(edited)
    assert mine.profile_for("acme-us", "USD") == "uk_eu"
    assert mine.account_setting("acme-us", "xero_base_currency") == "EUR"
    assert mine.ledger("xero", "acme-us", "USD").tax_rate("output_tax") == "20% (VAT on Income)"


def test_a_family_key_maps_every_marketplace_and_bad_names_are_refused(tmp_path: Path) -> None:
    beancount = load_chart().ledger("beancount", "any", "USD")
    assert beancount.account("bank_amazon_jp") == "Assets:Bank:Amazon-JP"
    with pytest.raises(ChartGap, match="amazon_unknown"):
        beancount.account("amazon_unknown")
    bad = tmp_path / "chart.toml"
    bad.write_text(load_chart().source.read_text().replace('"Income:Amazon:Sales"', '"Sales"', 1))
    with pytest.raises(ChartGap, match="beancount refuses"):
        load_chart(bad).ledger("beancount", "any", "USD").account("amazon_sales")
    bad.write_text("default_profile = [")
    with pytest.raises(ChartError, match="not valid TOML"):
        load_chart(bad)
