"""Run a GX Core 1.x suite against a pandas DataFrame (no Dagster here: orchestration/quality adapts it).

DataFrames, not SQL: GX's SQL path silently reports every expectation false on DuckDB, so the data is pulled
from DuckDB/Parquet into pandas and validated there. One ephemeral context per process: creating it is slow.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


_lock = threading.Lock()


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    observed: dict[str, Any] = field(default_factory=dict)


GREAT_EXPECTATIONS = "great_expectations"


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    outcomes: list[ExpectationOutcome]
    # Who judged the frame: GX, or the suite's own proof that every expectation holds (`passed_without_gx`).
    validated_by: str = GREAT_EXPECTATIONS

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]


@cache
def _context() -> Any:
    from expectations.gx_import import great_expectations

    gx = great_expectations()

    context = gx.get_context(mode="ephemeral")
    # Progress bars would spill into Dagster's captured logs.
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def new_suite(name: str, expectations: list[Any]) -> Any:
    """An ExpectationSuite holding `expectations`, built without saving it to any store.

    Passing the expectations to the constructor (instead of `add_expectation`) keeps GX from looking for a
    persisted suite, which would need an active data context.
    """
    from expectations.gx_import import great_expectations

    gx = great_expectations()

    return gx.ExpectationSuite(name=name, expectations=expectations)


@cache
def _frames_source() -> Any:
    """The context's pandas data source for frames, created once per process."""
    return _context().data_sources.add_or_update_pandas("acorn_frames")


@cache
def _whole_frame(suite_name: str) -> Any:
    """The batch definition (a whole DataFrame, given at validation) that validates `suite_name`'s frames,
    created once per process and suite: GX writes its whole config anew on every data source, asset or batch
    definition it adds, which cost each validation about as much as the validation."""
    source = _frames_source()
    asset_name = f"frame_{suite_name}"
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    batch_definitions = {definition.name: definition for definition in asset.batch_definitions}
    return batch_definitions.get("whole") or asset.add_batch_definition_whole_dataframe("whole")


def passed_without_gx(
    suite_name: str, expectations: list[tuple[str, str | None]], rows: int, how: str
) -> SuiteOutcome:
    """A passing outcome for a frame on which the suite's own code proved every expectation holds, evaluated
    the way GX's pandas engine evaluates it (each suite says how, and its tests compare the two verdicts).

    Why: importing GX costs about 1 CPU s per process (the largest fixed cost of `acorn import` after Dagster
    itself). A clean frame needs no GX; a frame the proof does not clear, for any reason, goes to GX, which
    then gives the verdict and the failures' details as before. `expectations`: (type, column) per
    expectation, in the suite's order."""
    observed = {"element_count": rows, "unexpected_count": 0}
    outcomes = [ExpectationOutcome(kind, column, True, dict(observed)) for kind, column in expectations]
    return SuiteOutcome(suite_name, True, len(outcomes), outcomes, validated_by=how)


def validate_dataframe(suite: Any, frame: pd.DataFrame) -> SuiteOutcome:
    """Validate `frame` against `suite` (an ExpectationSuite, not yet added to any context)."""
    with _lock:
        batch_definition = _whole_frame(suite.name)
        result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite, result_format="SUMMARY"
        )
    outcomes = [
        ExpectationOutcome(
            expectation=item.expectation_config.type,
            column=item.expectation_config.kwargs.get("column"),
            success=bool(item.success),
            observed=_summarise(item.result),
        )
        for item in result.results
    ]
    return SuiteOutcome(
        suite=suite.name, success=bool(result.success), evaluated=len(outcomes), outcomes=outcomes
    )


def _summarise(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("observed_value", "unexpected_count", "element_count", "partial_unexpected_list", "details")
    return {key: _jsonable(result[key]) for key in keep if key in result}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value[:20]]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class ValuesInSet:
    """`ExpectColumnValuesToBeInSet(column, value_set)` as the suite's own proof evaluates it (`validated`)."""

    column: str
    value_set: tuple[Any, ...]
    expectation = "expect_column_values_to_be_in_set"

    def holds(self, values: pd.Series) -> bool:
        """GX's pandas engine: `column.isin(value_set)` over the non-null values."""
        return bool(values.isin(list(self.value_set)).all())

    def gx_expectation(self) -> Any:
        """The GX expectation this rule states (what GX judges a frame the proof does not clear by)."""
        from expectations.gx_import import great_expectations

        gx = great_expectations()

        return gx.expectations.ExpectColumnValuesToBeInSet(column=self.column, value_set=list(self.value_set))


@dataclass(frozen=True)
class ValuesBetween:
    """`ExpectColumnValuesToBeBetween(column, min_value, max_value)` (bounds inclusive, GX's default)."""

    column: str
    min_value: float | None = None
    max_value: float | None = None
    expectation = "expect_column_values_to_be_between"

    def holds(self, values: pd.Series) -> bool:
        """GX's pandas engine: `min <= value <= max` over the non-null values; a column that is not numbers
        (or is booleans) is left to GX."""
        import pandas as pd

        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            return False
        inside = pd.Series(True, index=values.index)
        if self.min_value is not None:
            inside &= values >= self.min_value
        if self.max_value is not None:
            inside &= values <= self.max_value
        return bool(inside.all())

    def gx_expectation(self) -> Any:
        """The GX expectation this rule states; a bound that is None is not given (GX's default: none)."""
        from expectations.gx_import import great_expectations

        gx = great_expectations()

        bounds = {"min_value": self.min_value, "max_value": self.max_value}
        return gx.expectations.ExpectColumnValuesToBeBetween(
            column=self.column, **{name: value for name, value in bounds.items() if value is not None}
        )


ColumnRule = ValuesInSet | ValuesBetween
PROVED_BY_PANDAS = "pandas (every value satisfies the expectation; GX judges any other frame)"


def rules_suite(suite_name: str, rules: list[ColumnRule]) -> Any:
    """The GX suite `suite_name` that `rules` state, one expectation per rule, in their order."""
    return new_suite(suite_name, [rule.gx_expectation() for rule in rules])


def validated(suite_name: str, rules: list[ColumnRule], frame: pd.DataFrame) -> SuiteOutcome:
    """The outcome of the suite `rules` state (`rules_suite`) on `frame`: proved here when every rule provably
    holds, else GX's verdict (`validate_dataframe`).

    The proof tests what GX's pandas engine tests for a column map expectation (its non-null values, `mostly`
    1) and is stricter where it would have to guess: an empty frame, a column missing or wholly null, a
    `between` over a column that is not numbers all go to GX. So it never passes a frame GX fails, and a clean
    frame (every build's usual case) needs no GX import (about 1.5 CPU s per process). tests/expectations/
    test_proved_without_gx.py compares the verdicts and checks each rule's GX expectation states the rule."""
    if len(frame) and all(_rule_holds(rule, frame) for rule in rules):
        return passed_without_gx(
            suite_name, [(rule.expectation, rule.column) for rule in rules], len(frame), PROVED_BY_PANDAS
        )
    return validate_dataframe(rules_suite(suite_name, rules), frame)


def _rule_holds(rule: ColumnRule, frame: pd.DataFrame) -> bool:
    if rule.column not in frame.columns:
        return False
    values = frame[rule.column]
    values = values[values.notna()]
    return len(values) > 0 and rule.holds(values)
