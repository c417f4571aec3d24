"""The export manifest: exporting twice writes the same bytes and reports nothing changed; a re-issued
settlement, a changed posting rule or a changed chart map shows as changed journals; a journal a re-issue moved
away shows as no longer exported, and its file is removed when no journal is left in it."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from journal_kit import reissued, sample_lines, write_warehouse

from books.formats import FORMAT_NAMES
from books.manifest import manifest_name, sha256


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("export_format", FORMAT_NAMES)
def test_exporting_twice_is_idempotent(export_format: str, export, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = export(export_format, out)
    before = snapshot(out)
    second = export(export_format, out)
    assert snapshot(out) == before  # same bytes, and not even rewritten
    assert first.changes.first_export and not second.changes.first_export
    assert second.changes.new == second.changes.changed == second.changes.gone == []
    assert len(second.changes.unchanged) == second.journals > 0
    manifest = json.loads((out / manifest_name(export_format)).read_text())
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256((out / name).read_bytes())
    assert {entry["file"] for entry in manifest["journals"].values()} <= set(manifest["files"])


def test_a_reissued_settlement_is_the_one_changed_journal(export, warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export("beancount", out)
    write_warehouse(warehouse, reissued(sample_lines()))
    result = export("beancount", out)
    assert result.changes.changed == ["stl:acme-us:1002:2025-02"]
    assert result.changes.new == result.changes.gone == []
    text = (out / "acme-us.beancount").read_text()
    assert "Assets:Bank:Amazon-US  670.00 USD" in text
    assert "Assets:Bank:Amazon-US  660.00 USD" not in text  # replaced, never both


def test_a_changed_rule_or_chart_changes_the_journals_it_touches(
    export, warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    export("qbo-journal", out)
    relabelled = [
        replace(line, account_key="amazon_fba_fees", rule_version="2026.2")
        if line.description == "FBA storage fee"
        else line
        for line in sample_lines()
    ]
    write_warehouse(warehouse, relabelled)
    assert export("qbo-journal", out).changes.changed == ["stl:acme-us:1003:2025-03"]
    chart = tmp_path / "chart.toml"
    default = (Path(__file__).parents[2] / "config" / "books" / "chart.toml").read_text()
    chart.write_text(
        default.replace('amazon_advertising = "Advertising:Amazon Ads"', 'amazon_advertising = "Ads"')
    )
    monkeypatch.setenv("ACORN_BOOKS_CHART", str(chart))
    assert export("qbo-journal", out).changes.changed == ["stl:acme-us:1003:2025-03"]


def test_a_journal_no_longer_there_is_reported_and_its_empty_file_removed(
    export, warehouse: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export("qbo-journal", out)
    assert (out / "acme-us-qbo-journal-CAD.csv").is_file()
    write_warehouse(warehouse, [line for line in sample_lines() if line.source_settlement_id != "2001"])
    result = export("qbo-journal", out)
    assert result.changes.gone == ["stl:acme-us:2001:2025-02"]
    assert result.removed_files == ["acme-us-qbo-journal-CAD.csv"]
    assert not (out / "acme-us-qbo-journal-CAD.csv").exists()
    assert sorted(os.listdir(out)) == sorted(
        [*json.loads((out / manifest_name("qbo-journal")).read_text())["files"], manifest_name("qbo-journal")]
    )


def test_a_month_export_selects_its_journals_and_compares_only_with_the_same_selection(
    export, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    whole = export("hledger", out)
    february = export("hledger", out, account="acme-us", month="2025-02")
    assert february.journals == 4
    assert february.changes.gone == []  # another selection: the others are not "gone"
    assert sorted(february.changes.unchanged) == [
        "rel:acme-us:ATVPDKIKX0DER:2025-02:delivery_date_policy",
        "stl:acme-us:1001:2025-02",
        "stl:acme-us:1002:2025-02",
        "stl:acme-us:2001:2025-02",
    ]
    assert whole.journals == 10
