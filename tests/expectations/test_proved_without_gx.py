"""The warehouse checks' suites prove a clean frame without GX (`expectations.runner.validated`): the proof
never passes a frame GX fails, hands every other frame to GX, and each rule's GX expectation (which the suite
is built from) states what the proof evaluates."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from expectations import (
    fee_rate_anomaly,
    payout_amount_anomaly,
    refund_rate_anomaly,
    runner,
    settlement_freshness,
    settlement_reconciles,
    unknown_fee_descriptions,
)
from expectations.runner import (
    GREAT_EXPECTATIONS,
    ColumnRule,
    ValuesBetween,
    ValuesInSet,
    rules_suite,
    validate_dataframe,
    validated,
)

# Each suite's rules beside its GX suite (built from them): (rules, build_suite).
SUITES: dict[str, tuple[list[ColumnRule], Any]] = {
    "fee_rate_anomaly": (fee_rate_anomaly.RULES, fee_rate_anomaly.build_suite),
    "refund_rate_anomaly": (refund_rate_anomaly.RULES, refund_rate_anomaly.build_suite),
    "settlement_reconciles": (settlement_reconciles.RULES, settlement_reconciles.build_suite),
    "unknown_fee_descriptions": (unknown_fee_descriptions.RULES, unknown_fee_descriptions.build_suite),
    "payout_amount_anomaly": (
        payout_amount_anomaly.rules(3.5),
        lambda: payout_amount_anomaly.build_suite(3.5),
    ),
    "settlement_freshness": (
        settlement_freshness.rules(21.0),
        lambda: settlement_freshness.build_suite(21.0),
    ),
}


STATED_KWARGS = {"column", "value_set", "min_value", "max_value"}


@pytest.mark.parametrize("name", sorted(SUITES))
def test_rules_state_the_gx_suites_expectations(name: str) -> None:
    rules, build_suite = SUITES[name]
    suite = build_suite()
    stated = []
    for rule in rules:
        if isinstance(rule, ValuesInSet):
            stated.append((rule.expectation, {"column": rule.column, "value_set": list(rule.value_set)}))
        else:
            bounds = {"min_value": rule.min_value, "max_value": rule.max_value}
            stated.append(
                (
                    rule.expectation,
                    {"column": rule.column, **{k: v for k, v in bounds.items() if v is not None}},
                )
            )
    expected = []
    for expectation in suite.expectations:
        config = expectation.configuration
        kwargs = {k: v for k, v in config.kwargs.items() if v is not None and k in STATED_KWARGS}
        if "value_set" in kwargs:
            kwargs["value_set"] = list(kwargs["value_set"])
        expected.append((config.type, kwargs))
        # Nothing else in the GX expectation that the proof would ignore (mostly, strict bounds, row conditions).
        assert config.kwargs.get("mostly", 1) == 1
        assert not config.kwargs.get("strict_min") and not config.kwargs.get("strict_max")
        assert not config.kwargs.get("row_condition")
    assert stated == expected


IN_SET = ValuesInSet("flag", (False,))
BETWEEN = ValuesBetween("z", min_value=-3.5, max_value=3.5)
AT_MOST = ValuesBetween("days", max_value=21.0)
NAN = math.nan

FRAMES: list[tuple[ColumnRule, pd.DataFrame]] = [
    (IN_SET, pd.DataFrame({"flag": [False, False, False]})),
    (IN_SET, pd.DataFrame({"flag": [False, True, False]})),
    (IN_SET, pd.DataFrame({"flag": [True]})),
    (IN_SET, pd.DataFrame({"flag": pd.Series([], dtype=bool)})),
    (IN_SET, pd.DataFrame({"flag": [False, None, False]}, dtype=object)),
    (IN_SET, pd.DataFrame({"other": [False]})),
    (BETWEEN, pd.DataFrame({"z": [0.0, 1.2, -3.5, 3.5]})),
    (BETWEEN, pd.DataFrame({"z": [NAN, NAN, 0.3, -1.0]})),
    (BETWEEN, pd.DataFrame({"z": [NAN, 3.6]})),
    (BETWEEN, pd.DataFrame({"z": [-3.51, 0.0]})),
    (BETWEEN, pd.DataFrame({"z": [NAN, NAN]})),
    (BETWEEN, pd.DataFrame({"z": [math.inf, 0.0]})),
    (BETWEEN, pd.DataFrame({"z": ["1", "2"]})),
    (AT_MOST, pd.DataFrame({"days": [0.0, 20.9, 21.0]})),
    (AT_MOST, pd.DataFrame({"days": [-400.0, 21.01]})),
]


def _gx_suite(rule: ColumnRule) -> Any:
    return rules_suite(f"proof_{rule.column}", [rule])


@pytest.mark.parametrize("index", range(len(FRAMES)))
def test_the_proof_never_passes_a_frame_gx_fails(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rule, frame = FRAMES[index]
    asked: list[bool] = []
    validate = runner.validate_dataframe

    def validate_dataframe_asked(suite: Any, frame: pd.DataFrame) -> Any:
        asked.append(True)
        return validate(suite, frame)

    monkeypatch.setattr(runner, "validate_dataframe", validate_dataframe_asked)
    outcome = validated(f"proof_{rule.column}", [rule], frame)
    if outcome.validated_by == GREAT_EXPECTATIONS:
        assert asked  # GX judged it
        return
    assert not asked and outcome.success
    # Proved clean: GX, asked the same, passes it too.
    gx = validate(_gx_suite(rule), frame)
    assert gx.success, gx.outcomes


def test_clean_frames_are_proved_and_every_failing_one_goes_to_gx() -> None:
    proved = {
        index
        for index, (rule, frame) in enumerate(FRAMES)
        if validated(f"proof_{rule.column}", [rule], frame).validated_by != GREAT_EXPECTATIONS
    }
    # The clean frames need no GX; a null among the values is skipped, as GX skips it.
    assert proved == {0, 4, 6, 7, 13}
    for index, (rule, frame) in enumerate(FRAMES):
        if index not in proved:
            outcome = validated(f"proof_{rule.column}", [rule], frame)
            assert outcome.validated_by == GREAT_EXPECTATIONS
            assert outcome.success == validate_dataframe(_gx_suite(rule), frame).success


def test_a_failing_frame_is_reported_with_gxs_failures() -> None:
    outcome = validated("proof_z", [BETWEEN], pd.DataFrame({"z": [NAN, 9.0, 0.0]}))
    assert not outcome.success and outcome.validated_by == GREAT_EXPECTATIONS
    assert [(f.expectation, f.column) for f in outcome.failures] == [
        ("expect_column_values_to_be_between", "z")
    ]
    assert outcome.failures[0].observed["unexpected_count"] == 1
