"""The vars of dbt_project.yml, for the Python that states the same rule as a model (a check's description,
its metadata, a test keeping a Python constant equal to its dbt twin). Read from the file, not from dbt."""

from __future__ import annotations

import functools
from typing import Any

import yaml  # PyYAML ships no stubs (mypy's config ignores it); dbt depends on it

from orchestration.paths import DBT_PROJECT_DIR


@functools.cache
def _project_vars() -> dict[str, Any]:
    document = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(document.get("vars") or {})


def dbt_var(name: str) -> Any:
    """The value dbt_project.yml gives var `name` (KeyError when it defines none)."""
    return _project_vars()[name]
