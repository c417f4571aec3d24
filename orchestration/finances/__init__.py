"""Finances domain: v0 event groups and events, 2024-06-19 transactions, balances, settlement summaries and
expected payouts → raw archive → lake, with the finance checks (see README.md)."""

import dagster as dg

from orchestration.finances.assets import (
    external_specs,
    finances_expected_payouts,
    finances_settlement_summaries,
    finances_transactions,
    finances_v0,
)
from orchestration.finances.checks import finance_checks

defs = dg.Definitions(
    assets=[
        *external_specs,
        finances_v0,
        finances_transactions,
        finances_settlement_summaries,
        finances_expected_payouts,
    ],
    asset_checks=finance_checks,
)
