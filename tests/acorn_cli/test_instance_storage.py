"""The instance storage setting (README "Scale-out"): SQLite by default, PostgreSQL by ACORN_DAGSTER_POSTGRES_URL
with the URL's password never shown, and an instance PostgreSQL that cannot be reached is exit 3 with the cause and
the fix, for `acorn import` and `acorn doctor` alike (no server needed: nothing listens on the port used)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from acorn_cli.environment import DAGSTER_YAML, prepare_environment
from acorn_cli.instance_storage import instance_storage, redacted, scrubbed
from acorn_cli.main import cli

SECRET = "s3cr3t-Pa55"
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "fixtures/shared/settlement-samples/xieyi138_US_v2_synthetic_settlement-sample.txt"
)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize(
    ("url", "shown", "password"),
    [
        ("postgresql://acorn:s3cr3t-Pa55@db:5432/dagster", "postgresql://acorn:***@db:5432/dagster", SECRET),
        (
            "postgresql://acorn@db/dagster?password=s3cr3t-Pa55",
            "postgresql://acorn@db/dagster?password=***",
            SECRET,
        ),
        ("postgresql://acorn:s3cr3t%40Pa55@db/dagster", "postgresql://acorn:***@db/dagster", "s3cr3t@Pa55"),
        ("postgresql://db/dagster", "postgresql://db/dagster", None),
    ],
)
def test_redacted_urls_keep_everything_but_the_password(url: str, shown: str, password: str | None) -> None:
    assert redacted(url) == shown
    message = scrubbed(f"failed at {url}: password {password}, user acorn", url)
    assert "s3cr3t" not in message and "user acorn" in message


def test_sqlite_unless_the_url_is_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("ACORN_DAGSTER_POSTGRES_URL", raising=False)
    assert instance_storage().kind == "sqlite"
    prepare_environment()
    assert (tmp_path / "dagster.yaml").read_text() == DAGSTER_YAML  # the embedded mode, unchanged
    monkeypatch.setenv("ACORN_DAGSTER_POSTGRES_URL", f"postgresql://acorn:{SECRET}@db/dagster")
    assert instance_storage().kind == "postgres"
    prepare_environment()
    written = (tmp_path / "dagster.yaml").read_text()
    assert "postgres_url:\n      env: ACORN_DAGSTER_POSTGRES_URL" in written and SECRET not in written


@pytest.mark.parametrize("command", [["doctor"], ["import", str(SAMPLE)]])
def test_an_unreachable_instance_is_exit_3_with_cause_and_fix(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql://acorn:{SECRET}@127.0.0.1:{_closed_port()}/dagster"
    env = {
        "DAGSTER_HOME": str(tmp_path / "home"),
        "ACORN_DATA_DIR": str(tmp_path / "data"),
        "ACORN_DAGSTER_POSTGRES_URL": url,
        "ACORN_CONFIG": None,
    }
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and SECRET not in result.output
    assert "postgresql://acorn:***@127.0.0.1:" in result.output
    assert "Connection refused" in result.output
    assert "start PostgreSQL at the host and port of ACORN_DAGSTER_POSTGRES_URL" in result.output
    assert not (tmp_path / "home" / "runs.db").exists()
