"""The Celery app a worker runs (`acorn worker`, or `celery -A orchestration.celery_app worker -Q dagster`): Dagster's
step task, with the broker and result backend of this process's environment (orchestration/executor.py)."""

from __future__ import annotations

import os

from dagster_celery.config import DEFAULT_CONFIG, dict_wrapper
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from orchestration.executor import BROKER_VAR, CELERY, CELERY_SETTINGS, backend_var, executor_kind

# A worker without a broker URL stops here with ExecutorConfigError naming the variable to set.
executor_kind({**os.environ, "ACORN_EXECUTOR": CELERY})

app = make_app(
    {
        "broker": os.environ[BROKER_VAR],
        "backend": os.environ[backend_var()],
        "include": [],
        "config_source": dict_wrapper(dict(DEFAULT_CONFIG, **CELERY_SETTINGS)),
    }
)
execute_plan = create_task(app)
