"""A failed step's headline, as `acorn run` reports it and the scheduled build's sensor names it: the deepest
cause's class and own message; `acorn run` first says which accounts of a step over several failed."""

from __future__ import annotations

import dagster as dg
from dagster._core.execution.plan.objects import StepFailureData
from dagster._utils.error import SerializableErrorInfo

from orchestration.step_failures import step_failure


def _failed(error: SerializableErrorInfo | None) -> dg.DagsterEvent:
    return dg.DagsterEvent(
        event_type_value=dg.DagsterEventType.STEP_FAILURE.value,
        job_name="acorn_daily",
        step_key="finances_v0",
        event_specific_data=StepFailureData(error=error, user_failure_data=None),
    )


def test_the_headline_is_the_deepest_cause_after_the_accounts_that_failed() -> None:
    cause = SerializableErrorInfo(
        message="spapi.errors.LwaError: invalid_grant\nthe refresh token was refused\nthird line",
        stack=[],
        cls_name="LwaError",
    )
    accounts = SerializableErrorInfo(
        message="orchestration.account_partitions.AccountsFailed: 1 account(s) failed: eu; landed: na",
        stack=[],
        cls_name="AccountsFailed",
        cause=cause,
    )
    wrapper = SerializableErrorInfo(
        message="dagster._core.errors.DagsterExecutionStepExecutionError: Error in op",
        stack=[],
        cls_name="DagsterExecutionStepExecutionError",
        cause=accounts,
    )
    failure = step_failure(_failed(wrapper))
    assert failure.could_not_run
    assert failure.headline(2) == "finances_v0: LwaError: 1 account(s) failed: eu; landed: na\ninvalid_grant"
    assert failure.headline(2, accounts=False) == (
        "finances_v0: LwaError: invalid_grant\nthe refresh token was refused"
    )
    assert step_failure(_failed(cause)).headline(2) == failure.headline(2, accounts=False)


def test_a_step_failure_without_an_error_says_it_failed() -> None:
    failure = step_failure(_failed(None))
    assert not failure.could_not_run
    assert failure.headline() == "finances_v0: error: failed"
