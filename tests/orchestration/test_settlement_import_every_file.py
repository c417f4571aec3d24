"""Issue 14: a multi-file import reports every file. One bad file (or one that cannot be read at all, or one
that makes the importer fail in a way no rule foresaw) never stops the others."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from orchestration.resources import DataDirResource, SpApiResource
from orchestration.settlements.assets import SETTLEMENT_LINES, outcomes_from_metadata, settlement_reports

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "settlement-samples"
V2_SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"
CA_SAMPLE = SAMPLES / "adwweaver_CA_v1_50011020300.txt"
CONFIG = '[[accounts]]\nid = "store-na"\nregion = "na"\nmarketplaces = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]\n'


def _outcomes(tmp_path: Path, files: list[Path]) -> list[dict]:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(CONFIG)
    result = dg.materialize(
        [settlement_reports],
        run_config={"ops": {"settlement_reports": {"config": {"import_files": [str(f) for f in files]}}}},
        resources={
            "spapi": SpApiResource(config_path=str(accounts)),
            "data": DataDirResource(data_dir=str(tmp_path / "data")),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success
    [materialization] = [
        m
        for m in result.asset_materializations_for_node("settlement_reports")
        if m.asset_key == SETTLEMENT_LINES
    ]
    return outcomes_from_metadata(dict(materialization.metadata))


def test_every_file_gets_an_outcome_whatever_happens_to_the_others(tmp_path: Path) -> None:
    long_first_line = tmp_path / "long.txt"
    long_first_line.write_bytes(b"x" * (5 << 20) + b"\n")  # crashed the whole import (IndexError) before
    random_bytes = tmp_path / "random.bin"
    random_bytes.write_bytes(os.urandom(10_000))
    vanished = tmp_path / "vanished.txt"  # gone by the time the run reads it
    files = [V2_SAMPLE, long_first_line, random_bytes, vanished, CA_SAMPLE]
    outcomes = _outcomes(tmp_path, files)
    assert [o["file"] for o in outcomes] == [f.name for f in files]
    assert [o["status"] for o in outcomes] == ["imported", "quarantined", "rejected", "rejected", "imported"]
    assert "could not be imported" in outcomes[3]["message"] and "FileNotFoundError" in outcomes[3]["message"]


def test_an_unexpected_error_in_one_file_is_its_outcome(tmp_path: Path, monkeypatch) -> None:
    from transforms.settlement import importer

    real = importer.convert_lines

    def flaky(path, shape, *args, **kwargs):
        if shape.summary.settlement_id == "28471003921":
            raise KeyError("a bug")
        return real(path, shape, *args, **kwargs)

    monkeypatch.setattr(importer, "convert_lines", flaky)
    outcomes = _outcomes(tmp_path, [V2_SAMPLE, CA_SAMPLE])
    assert [o["status"] for o in outcomes] == ["quarantined", "imported"]
    assert "unexpected error while importing: KeyError: 'a bug'" in outcomes[0]["message"]
