"""The simulator's synthetic ledger: one consistent business history behind every dataset it serves.

The HTTP layer of the simulator (``simulator/``) serves what this package computes. Every rendering
(settlement flat files, Finances v0 event groups and events, Finances 2024-06-19 transactions, balances and
summaries, Transfers expected payouts, Vendor Orders) is derived from the same list of ledger entries, so they
agree to the cent, except for the deliberate anomalies listed by :meth:`Ledger.injected_anomalies` (and in
``README.md`` beside this file).

Conventions for every method:

* returned dicts are already in Amazon's model shapes (the items of a page, not the envelope);
* money inside them is :class:`~decimal.Decimal`; the HTTP layer serialises it exactly, as a JSON number, or
  as a string where the model says string (Vendor Orders ``Money.amount`` is already a ``str`` here);
* timestamps inside them are ISO-8601 strings in UTC (``2026-11-23T07:49:55Z``);
* ``now`` is the simulator clock (a UTC-aware datetime): nothing dated after ``now`` is visible.
"""

from __future__ import annotations

from simulator.ledger.engine import Ledger
from simulator.ledger.records import InjectedAnomaly, SettlementInfo, SimAccount, SimDocument

__all__ = ["InjectedAnomaly", "Ledger", "SettlementInfo", "SimAccount", "SimDocument"]
