"""`acorn doctor` on configs that cannot be loaded (a FAIL line with the fix, exit 3, never a traceback), and on
the bundled simulator config (it says so first)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from acorn_cli.main import cli
from spapi.doctor import doctor_report

VALID_ACCOUNT = '[[accounts]]\nid = "my-us-store"\nkind = "seller"\nregion = "na"\n'


def run_doctor(tmp_path: Path, config: Path | None) -> Result:
    env = {"DAGSTER_HOME": str(tmp_path / "dagster_home"), "ACORN_CONFIG": str(config) if config else None}
    return CliRunner().invoke(cli, ["doctor"], env=env)


def assert_config_fails(result: Result, *expected: str) -> list[str]:
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    fail = [line for line in lines if line.startswith("FAIL config")]
    assert fail, result.output
    for text in expected:
        assert text in result.output, (text, result.output)
    return lines


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "accounts.toml"
    result = run_doctor(tmp_path, missing)
    lines = assert_config_fails(
        result, f"config file not found: {missing}", "copy config/accounts.example.toml"
    )
    assert lines[0] == f"Checking {missing} (ACORN_CONFIG)."


def test_config_that_is_not_toml(tmp_path: Path) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text('[[accounts]]\nid = "my-us-store"\nkind = seller\nregion = "na"\n')
    assert_config_fails(run_doctor(tmp_path, config), "not valid TOML at line 3, column 8", "fix the TOML")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VALID_ACCOUNT.replace('"seller"', '"sellr"'),
            "accounts[0] (id 'my-us-store').kind: 'sellr' is not allowed; allowed values: 'seller' or 'vendor'",
        ),
        (VALID_ACCOUNT.replace('"na"', '"us"'), "allowed values: 'na', 'eu' or 'fe'"),
        (VALID_ACCOUNT + 'regoin = "eu"\n', "unknown field 'regoin'"),
        ('[[accounts]]\nkind = "seller"\nregion = "na"\n', "required field 'id' is missing"),
    ],
)
def test_config_with_an_invalid_value(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text(text)
    assert_config_fails(run_doctor(tmp_path, config), expected, "fix the field(s) named above")


def test_a_failed_check_is_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text("# no accounts yet\n")
    result = run_doctor(tmp_path, config)
    assert result.exit_code == 1, result.output
    assert "FAIL config      no [[accounts]] in the config" in result.output


def test_without_acorn_config_it_says_it_checks_the_bundled_simulator(tmp_path: Path) -> None:
    result = run_doctor(tmp_path, None)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Checking the bundled simulator config (config/demo.toml), not Amazon")
    assert "ACORN_CONFIG" in lines[0] and "config/accounts.example.toml" in lines[0]
    assert lines[-1].endswith("checks ok (against the bundled simulator, not Amazon)")


def test_a_config_set_by_hand_that_enables_the_simulator_says_so(tmp_path: Path) -> None:
    config = tmp_path / "accounts.toml"
    config.write_text("[simulator]\nenabled = true\n" + VALID_ACCOUNT)
    report = doctor_report(config, {}, bundled=False)
    assert report.config_loaded and report.simulated and not report.failed, report.lines()
    assert report.lines()[1].startswith("This config enables the bundled simulator")
    missing = doctor_report(tmp_path / "nope.toml", {}, bundled=False)
    assert not missing.config_loaded and missing.failed
    assert missing.lines()[-1] == "the config could not be loaded, so nothing else was checked"
