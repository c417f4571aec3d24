"""Where steps execute is configuration (orchestration/executor.py, acorn_cli/workers.py): the embedded default is
unchanged, a Celery run names only environment variables in its stored config, and a configuration that cannot
execute the run's steps is refused before the run is created, naming the fix."""

from __future__ import annotations

import pytest

from acorn_cli.workers import ExecutorUnavailable, execution_config, worker_argv
from orchestration.executor import (
    ExecutorConfigError,
    celery_executor_config,
    execution_run_config,
    executor_definition,
    executor_kind,
    steps_on_celery,
)

BROKER = "redis://:s3cret@127.0.0.1:6379/15"


def test_embedded_is_the_default_and_runs_in_process() -> None:
    assert executor_kind({}) == "in_process"
    assert execution_run_config({}) == {"execution": {"config": {"in_process": {}}}}
    assert executor_definition({}) is None


def test_celery_run_config_names_variables_never_urls() -> None:
    env = {"ACORN_EXECUTOR": "celery", "ACORN_CELERY_BROKER_URL": BROKER}
    # The executor carries its configuration (runs started by `acorn` and in the UI alike): no run config.
    assert execution_run_config(env) == {}
    config = celery_executor_config(env)
    assert config["broker"] == {"env": "ACORN_CELERY_BROKER_URL"}
    assert config["backend"] == {"env": "ACORN_CELERY_BROKER_URL"}  # Redis serves as its own result backend
    assert "s3cret" not in repr(config)
    assert config["config_source"]["worker_prefetch_multiplier"] == 1
    separate = celery_executor_config({**env, "ACORN_CELERY_BACKEND_URL": "redis://127.0.0.1:6379/14"})
    assert separate["backend"] == {"env": "ACORN_CELERY_BACKEND_URL"}
    assert executor_definition(env).name == "celery"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ACORN_EXECUTOR": "kubernetes"}, "in_process, celery"),
        ({"ACORN_EXECUTOR": "celery"}, "ACORN_CELERY_BROKER_URL"),
    ],
)
def test_a_configuration_that_cannot_work_names_the_fix(env: dict[str, str], named: str) -> None:
    with pytest.raises(ExecutorConfigError, match=named):
        executor_kind(env)


def test_steps_on_celery_only_for_a_working_celery_setting() -> None:
    # A wrong setting is not Celery here: the run's start refuses it, naming the fix (test above).
    assert steps_on_celery({"ACORN_EXECUTOR": "celery", "ACORN_CELERY_BROKER_URL": BROKER})
    assert not steps_on_celery({})
    assert not steps_on_celery({"ACORN_EXECUTOR": "celery"})
    assert not steps_on_celery({"ACORN_EXECUTOR": "kubernetes"})


def test_celery_without_a_shared_instance_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACORN_EXECUTOR", "celery")
    monkeypatch.setenv("ACORN_CELERY_BROKER_URL", BROKER)
    monkeypatch.delenv("ACORN_DAGSTER_POSTGRES_URL", raising=False)
    with pytest.raises(ExecutorUnavailable, match="SQLite") as refused:
        execution_config()
    assert "set ACORN_DAGSTER_POSTGRES_URL" in refused.value.fix


def test_worker_runs_one_step_at_a_time_in_its_own_process() -> None:
    argv = worker_argv("w1")
    assert argv[argv.index("--pool") + 1] == "solo"
    assert argv[argv.index("--queues") + 1] == "dagster"
    assert argv[argv.index("--hostname") + 1].startswith("w1@")
