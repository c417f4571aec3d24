"""What the terminal shows while a run works: per step and account, with counts, from Dagster's own events.

On a terminal, rich draws a one-line spinner with the current step and the counts so far, and prints a line per
finished step, per account's landing and per failure. Anywhere else (cron, CI, a pipe) the same lines are plain
text, one per line, with no control codes. Progress goes to stderr, so `--json` on stdout stays parseable.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.status import Status

from orchestration.outcomes import MODEL_UNCHANGED_KEY, WAREHOUSE_UNCHANGED_KEY

# Step keys of the landing assets, as a person would name them.
STEP_LABELS = {
    "settlement_reports": "settlement reports",
    "finances_v0": "Finances v0 event groups and events",
    "finances_transactions": "Finances transactions and balances",
    "finances_settlement_summaries": "Finances settlement summaries",
    "finances_expected_payouts": "expected payouts",
    "vendor_purchase_orders": "vendor purchase orders",
    "vendor_invoices": "vendor invoices",
    "acorn_dbt_models": "dbt build (staging, intermediate, marts, tests)",
}


def _label(step_key: str) -> str:
    return STEP_LABELS.get(step_key, step_key.replace("_", " "))


class RunProgress:
    """An event listener for `instance.add_event_listener`: prints what the run is doing as it does it."""

    def __init__(
        self, stream: TextIO | None = None, *, enabled: bool = True, force_terminal: bool | None = None
    ) -> None:
        self.console = Console(
            file=stream or sys.stderr, highlight=False, soft_wrap=True, force_terminal=force_terminal
        )
        self.enabled = enabled
        self._status: Status | None = None
        self._started: dict[str, float] = {}
        self._models = 0
        self._unchanged_models = 0
        self._kept_models = 0
        self._checks_passed = 0
        self._checks_failed = 0

    def __enter__(self) -> RunProgress:
        if self.enabled and self.console.is_terminal:
            self._status = self.console.status("starting the run…")
            self._status.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def line(self, text: str) -> None:
        if self.enabled:
            self.console.print(text, markup=False)

    def _show(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)

    def __call__(self, entry: Any) -> None:
        """Called by Dagster for every event the run records (system events and `context.log` lines)."""
        with contextlib.suppress(Exception):  # progress must never break a run
            self._handle(entry)

    def _handle(self, entry: Any) -> None:
        event = entry.dagster_event
        step = entry.step_key or ""
        if event is None:
            # A `context.log` line: the landing assets log one per account with their counts.
            if entry.level >= 20 and step and step != "acorn_dbt_models" and entry.user_message:
                self.line(f"    {entry.user_message}")
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self._started[step] = time.monotonic()
            if not self._is_check_step(step):
                self.line(f"  ▸ {_label(step)}")
            self._show(f"{_label(step)}…")
        elif kind == "ASSET_MATERIALIZATION" and step == "acorn_dbt_models":
            materialization = getattr(event.event_specific_data, "materialization", None)
            metadata = getattr(materialization, "metadata", None) or {}
            if WAREHOUSE_UNCHANGED_KEY in metadata:
                self._unchanged_models += 1
            elif MODEL_UNCHANGED_KEY in metadata:
                self._kept_models += 1
            else:
                self._models += 1
            self._show(f"dbt: {self._models} models and seeds built")
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                self._checks_passed += 1
            else:
                self._checks_failed += 1
                self.line(
                    f"    ✗ [{evaluation.severity.value}] {evaluation.check_name} on "
                    f"{evaluation.asset_key.to_user_string()}"
                )
            self._show(f"checks: {self._checks_passed} passed, {self._checks_failed} failed")
        elif kind == "STEP_SUCCESS" and not self._is_check_step(step):
            seconds = time.monotonic() - self._started.get(step, time.monotonic())
            extra = ""
            if step == "acorn_dbt_models":
                extra = f", {self._models} models and seeds built"
                if self._kept_models:
                    extra += f", {self._kept_models} unchanged (nothing they read changed)"
                if self._unchanged_models and not self._models:
                    extra = ": nothing new, warehouse unchanged, dbt not run"
            self.line(f"  ✓ {_label(step)} ({seconds:.0f} s{extra})")
        elif kind == "STEP_FAILURE" and not self._is_check_step(step):
            self.line(f"  ✗ {_label(step)} failed")

    def summary_line(self) -> str:
        total = self._checks_passed + self._checks_failed
        return f"  checks: {total} evaluated, {self._checks_failed} failed"

    @staticmethod
    def _is_check_step(step: str) -> bool:
        # Asset-check steps are keyed <asset path>_<check name>; asset steps are the asset functions' names.
        return step.startswith(("lake__", "warehouse__", "spapi__"))
