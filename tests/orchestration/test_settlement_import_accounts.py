"""The settlement asset, as `acorn import` and the inbox sensor run it: an unknown account fails the step before
anything is archived; without one, each file's account is inferred from the config; `reattribute` moves a
settlement to the account given. Also `acorn import`'s usage errors (exit 2, before any run starts)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from click.testing import CliRunner

from acorn_cli.main import cli
from orchestration.resources import DataDirResource, SpApiResource
from orchestration.settlements.assets import SETTLEMENT_LINES, outcomes_from_metadata, settlement_reports
from transforms.settlement.accounts import UnknownAccount

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "shared" / "settlement-samples"
V2_SAMPLE = SAMPLES / "xieyi138_US_v2_synthetic_settlement-sample.txt"  # amazon.com
NO_MARKETPLACE = SAMPLES / "adwweaver_CA_v1_50011020300.txt"
CONFIG = """
[[accounts]]
id = "store-na"
region = "na"
marketplaces = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]

[[accounts]]
id = "store-eu"
region = "eu"
marketplaces = ["A1PA6795UKMFR9"]
"""


def _import(tmp_path: Path, files: list[Path], **config: object) -> dg.ExecuteInProcessResult:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(CONFIG)
    return dg.materialize(
        [settlement_reports],
        run_config={
            "ops": {"settlement_reports": {"config": {"import_files": [str(f) for f in files], **config}}}
        },
        resources={
            "spapi": SpApiResource(config_path=str(accounts)),
            "data": DataDirResource(data_dir=str(tmp_path / "data")),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _outcomes(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    [materialization] = [
        m
        for m in result.asset_materializations_for_node("settlement_reports")
        if m.asset_key == SETTLEMENT_LINES
    ]
    return {Path(str(o["file"])).name: o for o in outcomes_from_metadata(dict(materialization.metadata))}


def _lake_accounts(tmp_path: Path) -> set[str | None]:
    files = (tmp_path / "data" / "lake" / "settlements").glob("*/*.parquet")
    return {row["account_id"] for f in files for row in pq.read_table(f).to_pylist()}


def test_an_unknown_account_fails_before_anything_is_archived(tmp_path: Path) -> None:
    result = _import(tmp_path, [V2_SAMPLE], account_id="no-such-account")
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error, chain = failure.step_failure_data.error, []
    while error is not None:
        chain.append(error)
        error = error.cause
    [unknown] = [e for e in chain if e.cls_name == UnknownAccount.__name__]
    assert "store-na, store-eu" in unknown.message
    assert not list((tmp_path / "data" / "raw").rglob("*"))


def test_accounts_inferred_then_reattributed(tmp_path: Path) -> None:
    first = _import(tmp_path, [V2_SAMPLE, NO_MARKETPLACE])
    assert first.success
    outcomes = _outcomes(first)
    assert outcomes[V2_SAMPLE.name]["status"] == "imported"
    assert "'store-na' inferred" in outcomes[V2_SAMPLE.name]["message"]
    assert outcomes[NO_MARKETPLACE.name]["status"] == "rejected"
    assert "--account" in outcomes[NO_MARKETPLACE.name]["message"]
    assert _lake_accounts(tmp_path) == {"store-na"}

    other = _outcomes(_import(tmp_path, [V2_SAMPLE], account_id="store-eu"))[V2_SAMPLE.name]
    assert other["status"] == "rejected" and "--reattribute --account store-eu" in other["message"]
    moved = _outcomes(_import(tmp_path, [V2_SAMPLE], account_id="store-eu", reattribute=True))
    assert moved[V2_SAMPLE.name]["status"] == "imported"
    assert _lake_accounts(tmp_path) == {"store-eu"}


def _cli_import(tmp_path: Path, *args: str) -> tuple[int, str]:
    env = {"DAGSTER_HOME": str(tmp_path / "dagster_home"), "ACORN_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["import", *args], env={**env, "ACORN_CONFIG": None})
    return result.exit_code, result.output


def test_cli_unknown_account_is_a_usage_error(tmp_path: Path) -> None:
    code, output = _cli_import(tmp_path, "--account", "no-such-account", str(V2_SAMPLE))
    assert code == 2, output
    assert "unknown account 'no-such-account'" in output and "demo-na, demo-eu" in output
    assert not (tmp_path / "data").exists()  # nothing archived, not even the data dir made
    code, output = _cli_import(tmp_path, "--account", "demo-vendor", str(V2_SAMPLE))
    assert code == 2 and "vendor account" in output


def test_cli_reattribute_needs_an_account(tmp_path: Path) -> None:
    code, output = _cli_import(tmp_path, "--reattribute", str(V2_SAMPLE))
    assert code == 2 and "--reattribute needs --account" in output
