"""Many simulated seller accounts (`[simulator] simulated_sellers`, the cluster demo): each has a history of its own
and the simulator answers each caller with the account whose demo refresh token it sent."""

from __future__ import annotations

from datetime import date

from simulator.credentials import demo_refresh_token, token_grant
from simulator.ledger import Ledger
from simulator.ledger.catalog import simulated_seller_id


def test_simulated_sellers_alternate_regions_and_never_share_a_settlement() -> None:
    ledger = Ledger(seed=7, today=date(2027, 1, 15), simulated_sellers=4)
    ids = [simulated_seller_id(n) for n in range(1, 5)]
    assert ids == ["sim-na-001", "sim-eu-002", "sim-na-003", "sim-eu-004"]
    assert set(ids) <= {account.account_id for account in ledger.accounts()}
    settlement_ids = [s.settlement_id for account in ids for s in ledger.settlements(account)]
    assert settlement_ids
    assert len(settlement_ids) == len(set(settlement_ids))
    demo = {s.settlement_id for s in ledger.settlements("demo-na")}
    assert demo.isdisjoint(settlement_ids)


def test_the_callers_refresh_token_selects_its_account() -> None:
    ledger = Ledger(seed=7, today=date(2027, 1, 15), simulated_sellers=2)
    grant = token_grant(demo_refresh_token("sim-eu-002"))
    chosen = ledger.account_for("eu", "seller", grant)
    assert chosen is not None
    assert chosen.account_id == "sim-eu-002"
    # Another region's host, or credentials of no simulated account: the region's demo account.
    other = ledger.account_for("na", "seller", grant)
    assert other is not None
    assert other.account_id == "demo-na"
    fallback = ledger.account_for("eu", "seller", token_grant("Atzr|someone-else"))
    assert fallback is not None
    assert fallback.account_id == "demo-eu"
