"""orchestration/warehouse/scope.py on a small dbt manifest: a build runs the nodes downstream of what changed
(a lake dataset, a var, the business day for SQL that reads the clock) and leaves out the rest; it runs
everything without a usable record, or when the project or a var its YAML reads changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestration.warehouse.last_build import LastBuild
from orchestration.warehouse.scope import build_scope

SETTINGS = {"vendor_as_of_date": "2026-12-05", "reporting_currency": "USD"}
DATASETS = {"settlement_lines": "lines-1", "transactions": "transactions-1"}


def _node(
    kind: str, name: str, parents: list[str], sql: str = "select 1", macros: tuple[str, ...] = ()
) -> Any:
    folder = "tests" if kind == "test" else "models"
    return {
        "resource_type": kind,
        "name": name,
        "fqn": ["acorn", folder, name],
        "raw_code": sql,
        "depends_on": {"nodes": parents, "macros": list(macros)},
    }


def _manifest() -> dict[str, Any]:
    sources = {
        "source.acorn.lake_settlements.settlement_lines": {"name": "settlement_lines"},
        "source.acorn.lake_finance.transactions": {"name": "transactions", "identifier": "transactions"},
    }
    nodes = {
        "seed.acorn.fees": _node("seed", "fees", []),
        "model.acorn.stg_lines": _node("model", "stg_lines", ["source.acorn.lake_settlements.settlement_lines"]),
        "model.acorn.stg_transactions": _node("model", "stg_transactions", ["source.acorn.lake_finance.transactions"]),
        "model.acorn.fct_fees": _node("model", "fct_fees", ["model.acorn.stg_lines", "seed.acorn.fees"]),
        "model.acorn.fct_transactions": _node(
            "model", "fct_transactions", ["model.acorn.stg_transactions"], "select {{ var('reporting_currency') }}"
        ),
        "model.acorn.rpt_overdue": _node(
            "model", "rpt_overdue", ["model.acorn.fct_transactions"], "select {{ as_of() }}", ("macro.acorn.as_of",)
        ),
        "test.acorn.unique_fct_fees": _node("test", "unique_fct_fees", ["model.acorn.fct_fees"]),
        "test.acorn.not_null_fct_transactions": _node(
            "test", "not_null_fct_transactions", ["model.acorn.fct_transactions"]
        ),
        # A relationship test between a rebuilt fact and an unchanged table: it runs when either side does.
        "test.acorn.fees_match_transactions": _node(
            "test", "fees_match_transactions", ["model.acorn.fct_fees", "model.acorn.fct_transactions"]
        ),
        "unit_test.acorn.fct_fees.rule": _node("unit_test", "rule", ["model.acorn.fct_fees"]),
    }  # fmt: skip
    children: dict[str, list[str]] = {key: [] for key in [*sources, *nodes]}
    for key, node in nodes.items():
        for parent in node["depends_on"]["nodes"]:
            children[parent].append(key)
    macros = {"macro.acorn.as_of": {"macro_sql": "current_date", "depends_on": {"macros": []}}}
    return {"nodes": nodes, "sources": sources, "child_map": children, "macros": macros}


def _last(**parts: Any) -> LastBuild:
    defaults: dict[str, Any] = {"project": "project-1", "datasets": DATASETS, "settings": SETTINGS}
    return LastBuild("fingerprint", "run-1", "2026-12-05T00:00:00+00:00", [], [], **{**defaults, **parts})


def _scope(project_dir: Path, last: LastBuild | None, **now: Any) -> Any:
    inputs: dict[str, Any] = {"project": "project-1", "datasets": DATASETS, "settings": SETTINGS, **now}
    return build_scope(_manifest(), last, project_dir=project_dir, **inputs)


def _project_dir(tmp_path: Path, yaml: str = "name: acorn\n") -> Path:
    (tmp_path / "dbt_project.yml").write_text(yaml)
    return tmp_path


def test_a_new_settlement_runs_what_reads_the_settlements(tmp_path: Path) -> None:
    scope = _scope(_project_dir(tmp_path), _last(), datasets={**DATASETS, "settlement_lines": "lines-2"})
    assert not scope.everything
    assert scope.run == {
        "model.acorn.stg_lines",
        "model.acorn.fct_fees",
        "test.acorn.unique_fct_fees",
        "test.acorn.fees_match_transactions",
    }
    # Never the seeds, the Finances models nor their own tests; unit tests are not a build's.
    assert scope.left_out == {
        "seed.acorn.fees",
        "model.acorn.stg_transactions",
        "model.acorn.fct_transactions",
        "model.acorn.rpt_overdue",
        "test.acorn.not_null_fct_transactions",
    }
    assert len(scope.exclude_args(_manifest())) == 2
    assert "fqn:acorn.models.fct_transactions" in scope.exclude_args(_manifest())[1].split(" ")


def test_nothing_changed_runs_nothing(tmp_path: Path) -> None:
    scope = _scope(_project_dir(tmp_path), _last())
    assert not scope.everything and scope.run == frozenset()


def test_a_changed_var_runs_what_reads_it_and_a_new_day_what_reads_the_clock(tmp_path: Path) -> None:
    currency = _scope(_project_dir(tmp_path), _last(), settings={**SETTINGS, "reporting_currency": "EUR"})
    assert currency.run == {
        "model.acorn.fct_transactions",
        "model.acorn.rpt_overdue",
        "test.acorn.not_null_fct_transactions",
        "test.acorn.fees_match_transactions",
    }
    new_day = _scope(
        _project_dir(tmp_path), _last(), settings={**SETTINGS, "vendor_as_of_date": "2026-12-06"}
    )
    assert new_day.run == {"model.acorn.rpt_overdue"}


def test_everything_runs_without_a_record_or_after_a_project_change(tmp_path: Path) -> None:
    project_dir = _project_dir(tmp_path)
    assert _scope(project_dir, None).everything
    assert _scope(project_dir, _last(datasets=None)).everything
    edited = _scope(project_dir, _last(), project="project-2")
    assert edited.everything and edited.reason == "the dbt project changed"
    assert edited.exclude_args(_manifest()) == []


def test_a_var_read_by_the_projects_yaml_runs_everything(tmp_path: Path) -> None:
    project_dir = _project_dir(
        tmp_path, "models:\n  +enabled: \"{{ var('reporting_currency') != 'XXX' }}\"\n"
    )
    assert _scope(project_dir, _last(), settings={**SETTINGS, "reporting_currency": "EUR"}).everything
    assert not _scope(
        project_dir, _last(), settings={**SETTINGS, "vendor_as_of_date": "2026-12-06"}
    ).everything


def test_settings_compare_as_the_record_holds_them(tmp_path: Path) -> None:
    recorded = _last(
        settings={**SETTINGS, "accounts": [{"id": "demo-na", "marketplaces": ["ATVPDKIKX0DER"]}]}
    )
    now = {**SETTINGS, "accounts": ({"id": "demo-na", "marketplaces": ("ATVPDKIKX0DER",)},)}
    assert _scope(_project_dir(tmp_path), recorded, settings=now).run == frozenset()
