"""Silence findings: run history on a real temporary Dagster instance (runs backdated through their start and end
events), and a lake of settlements and event groups written as Parquet, judged at a chosen `now`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from postgres_server import fresh_database
from silence_testkit import add_run, write_event_groups, write_settlements

from orchestration.quality import silence
from orchestration.quality.silence import (
    EVENT_GROUPS_SILENT,
    RUNS_FAILING,
    RUNS_STOPPED,
    SETTLEMENTS_SILENT,
    SilenceThresholds,
    alert_thresholds,
    silence_findings,
)
from spapi.config import parse_config
from spapi.errors import ConfigError

T = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def config(*accounts: tuple[str, str], alerts: dict | None = None):
    document: dict = {"accounts": [{"id": a, "kind": kind, "region": "na"} for a, kind in accounts]}
    if alerts is not None:
        document["alerts"] = alerts
    return parse_config(document)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def instance(request: pytest.FixtureRequest) -> Iterator[dg.DagsterInstance]:
    """The run history on SQLite (embedded) and on PostgreSQL (scale-out, README "Scale-out")."""
    if request.param == "sqlite":
        with dg.instance_for_test() as test_instance:
            yield test_instance
        return
    storage = {"storage": {"postgres": {"postgres_url": request.getfixturevalue("postgres_url")}}}
    with dg.instance_for_test(overrides=storage) as test_instance:
        assert type(test_instance.run_storage).__name__ == "PostgresRunStorage"
        yield test_instance
        test_instance.wipe()


def by_account(findings: list[silence.SilenceFinding]) -> dict[tuple[str, str], silence.SilenceFinding]:
    return {(f.account_id, f.kind): f for f in findings}


# --- runs ------------------------------------------------------------------------------------------------------


def daily_history(instance: dg.DagsterInstance) -> list[str]:
    """Four days ago everything succeeded; since then `na` failed (or was canceled) every day, `eu` and
    `vendor` succeeded yesterday, and `quiet` (covered by the untagged run) was never run again."""
    add_run(instance, dg.DagsterRunStatus.SUCCESS, T - 4 * DAY)
    failed = [
        add_run(instance, dg.DagsterRunStatus.FAILURE, T - 3 * DAY, "na"),
        add_run(instance, dg.DagsterRunStatus.CANCELED, T - 2 * DAY, "na,eu"),
        add_run(instance, dg.DagsterRunStatus.FAILURE, T - 1 * DAY, " na "),
    ]
    add_run(instance, dg.DagsterRunStatus.SUCCESS, T - DAY + timedelta(hours=1), "eu,vendor")
    # Other jobs never count, whatever their status.
    add_run(instance, dg.DagsterRunStatus.SUCCESS, T - DAY, job="warehouse_build")
    return failed


ACCOUNTS = (("na", "vendor"), ("eu", "vendor"), ("vendor", "vendor"), ("quiet", "vendor"))


def test_a_run_failing_for_days_and_a_run_that_stopped_are_found(instance: dg.DagsterInstance) -> None:
    failed = daily_history(instance)
    findings = by_account(silence_findings(instance, config(*ACCOUNTS), Path("/nonexistent"), now=T))
    assert set(findings) == {("na", RUNS_FAILING), ("quiet", RUNS_STOPPED)}

    na = findings[("na", RUNS_FAILING)]
    assert na.days == 4
    assert "has not succeeded for na in 4 days" in na.message
    assert "last success 2026-03-06 07:00 UTC" in na.message
    assert "3 run(s) failed or were canceled since" in na.message
    assert f"the latest {failed[-1][:8]} (FAILURE 2026-03-09 07:00 UTC)" in na.message
    assert "make ui" in na.message and "acorn doctor" in na.message

    quiet = findings[("quiet", RUNS_STOPPED)]
    assert quiet.days == 4
    assert "no run was attempted since" in quiet.message and "acorn_daily_schedule" in quiet.message


def test_runs_are_judged_only_past_the_threshold(instance: dg.DagsterInstance) -> None:
    daily_history(instance)
    cfg = config(*ACCOUNTS)
    just_before = T - 2 * DAY - timedelta(hours=1)  # the last success was 1 day 23 hours earlier
    assert silence_findings(instance, cfg, Path("/nonexistent"), now=just_before) == []
    five = config(*ACCOUNTS, alerts={"failed_run_days": 5})
    assert silence_findings(instance, five, Path("/nonexistent"), now=T) == []
    assert {
        f.account_id for f in silence_findings(instance, five, Path("/nonexistent"), now=T + DAY + HOUR)
    } == {
        "na",
        "quiet",
    }


def test_history_is_read_across_pages(instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch) -> None:
    daily_history(instance)
    expected = silence_findings(instance, config(*ACCOUNTS), Path("/nonexistent"), now=T)
    monkeypatch.setattr(silence, "_PAGE", 2)
    assert silence_findings(instance, config(*ACCOUNTS), Path("/nonexistent"), now=T) == expected


def test_a_run_in_progress_postpones_the_verdict_for_a_day(instance: dg.DagsterInstance) -> None:
    daily_history(instance)
    add_run(instance, dg.DagsterRunStatus.STARTED, T - timedelta(hours=1), "na")
    cfg = config(("na", "seller"))
    assert silence_findings(instance, cfg, Path("/nonexistent"), now=T, thresholds=SilenceThresholds()) == []
    (stuck,) = silence_findings(
        instance, cfg, Path("/nonexistent"), now=T + DAY, thresholds=SilenceThresholds()
    )
    assert (stuck.kind, stuck.days) == (RUNS_FAILING, 5)


def test_an_account_that_never_succeeded_counts_from_its_first_run(instance: dg.DagsterInstance) -> None:
    add_run(instance, dg.DagsterRunStatus.FAILURE, T - 3 * DAY, "na")
    add_run(instance, dg.DagsterRunStatus.FAILURE, T - 2 * DAY, "na")
    (finding,) = silence_findings(instance, config(("na", "vendor"), ("new", "vendor")), Path("/x"), now=T)
    assert (finding.account_id, finding.kind, finding.days) == ("na", RUNS_FAILING, 3)
    assert "never succeeded for na since its first run 3 days ago" in finding.message
    assert "2 run(s) failed" in finding.message


def test_no_history_no_lake_no_findings(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    assert (
        silence_findings(instance, config(("na", "seller"), ("v", "vendor")), tmp_path / "lake", now=T) == []
    )


def test_the_alerts_table_is_validated() -> None:
    assert alert_thresholds(config(("na", "seller"))) == SilenceThresholds(
        failed_run_days=2, cycle_margin_days=3, default_cycle_days=14
    )
    assert alert_thresholds(config(("na", "seller"), alerts={"cycle_margin_days": 0})).cycle_margin_days == 0
    with pytest.raises(ConfigError, match=r"alerts\.failed_run_dayz: Extra inputs are not permitted"):
        alert_thresholds(config(("na", "seller"), alerts={"failed_run_dayz": 3}))
    with pytest.raises(
        ConfigError, match=r"alerts\.failed_run_days: Input should be greater than or equal to 1"
    ):
        alert_thresholds(config(("na", "seller"), alerts={"failed_run_days": 0}))


# --- Amazon silent ----------------------------------------------------------------------------------------------


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    lake = tmp_path / "lake"
    # na settles every 14 days, the last period ended 18 days ago (over 14 + 3); its groups are current.
    write_settlements(lake, "na", [T - days * DAY for days in (60, 46, 32, 18)])
    write_event_groups(lake, "na", [T - 18 * DAY, T - 4 * DAY])
    # eu settles every 7 days (a .de and a .fr settlement end together each week), last 9 days ago (within 7+3).
    for marketplace in ("de", "fr"):
        write_settlements(
            lake, "eu", [T - days * DAY for days in (30, 23, 16, 9)], cycle=7, marketplace=marketplace
        )
    write_event_groups(lake, "eu", [T - 2 * DAY])
    # one has a single settlement (16 days ago: the default 14-day cycle + 3 applies) and an old event group.
    write_settlements(lake, "one", [T - 16 * DAY])
    write_event_groups(lake, "one", [T - 40 * DAY, T - 20 * DAY])
    # A vendor has no settlements and no event groups: it is never judged on them.
    return lake


SELLERS = (("na", "seller"), ("eu", "seller"), ("one", "seller"), ("vendor", "vendor"))


def test_amazon_silent_past_the_usual_cycle_plus_margin(instance: dg.DagsterInstance, lake: Path) -> None:
    findings = by_account(silence_findings(instance, config(*SELLERS), lake, now=T))
    assert set(findings) == {("na", SETTLEMENTS_SILENT), ("one", EVENT_GROUPS_SILENT)}
    na = findings[("na", SETTLEMENTS_SILENT)]
    assert na.days == 18
    assert "no new settlement for na in 18 days" in na.message
    assert "its latest settlement period ended 2026-02-20 07:00 UTC" in na.message
    assert "usual cycle is 14 days, alert after 17 (cycle + 3 days margin)" in na.message
    assert "Seller Central" in na.message
    one = findings[("one", EVENT_GROUPS_SILENT)]
    assert one.days == 20 and "no new Finances event group for one in 20 days" in one.message
    assert "its latest event group started 2026-02-18 07:00 UTC" in one.message


def test_the_cycle_is_the_accounts_own(instance: dg.DagsterInstance, lake: Path) -> None:
    # Two days later eu (7-day cycle: 11 days > 10) and one (default 14: 18 > 17) are silent too.
    later = by_account(silence_findings(instance, config(*SELLERS), lake, now=T + 2 * DAY))
    assert set(later) >= {("eu", SETTLEMENTS_SILENT), ("one", SETTLEMENTS_SILENT)}
    assert "usual cycle is 7 days, alert after 10" in later[("eu", SETTLEMENTS_SILENT)].message
    assert "usual cycle is 14 days, alert after 17" in later[("one", SETTLEMENTS_SILENT)].message
    # Without a margin, eu is silent today (9 days > 7).
    strict = config(*SELLERS, alerts={"cycle_margin_days": 0})
    assert ("eu", SETTLEMENTS_SILENT) in by_account(silence_findings(instance, strict, lake, now=T))


def test_nothing_in_the_lake_counts_from_the_first_run(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    add_run(instance, dg.DagsterRunStatus.SUCCESS, T - 20 * DAY, "fresh")
    add_run(instance, dg.DagsterRunStatus.SUCCESS, T - timedelta(hours=1), "fresh")
    write_settlements(tmp_path / "lake", "someone-else", [T - DAY])
    findings = by_account(silence_findings(instance, config(("fresh", "seller")), tmp_path / "lake", now=T))
    assert set(findings) == {("fresh", SETTLEMENTS_SILENT), ("fresh", EVENT_GROUPS_SILENT)}
    assert findings[("fresh", SETTLEMENTS_SILENT)].days == 20
    assert (
        "none has landed since its first run 2026-02-18 07:00 UTC"
        in findings[("fresh", SETTLEMENTS_SILENT)].message
    )
