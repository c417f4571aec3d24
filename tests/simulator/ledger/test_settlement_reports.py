"""Settlement periods, getReports visibility and the rendered V2 flat files."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal

from simulator.clock import default_start
from simulator.ledger import Ledger
from simulator.ledger.settlement_report import V2_COLUMNS

from .conftest import NOW, SELLERS, TODAY, parse_settlement_file
from .model_schema import validate


def test_same_seed_and_today_give_identical_bytes(ledger: Ledger) -> None:
    again = Ledger(seed=7, today=TODAY)
    for account in SELLERS:
        assert again.settlements(account) == ledger.settlements(account)
        assert again.reports(account, NOW) == ledger.reports(account, NOW)
        for s in ledger.settlements(account):
            mine = ledger.report_document(account, s.report_document_id)
            theirs = again.report_document(account, s.report_document_id)
            assert mine is not None and theirs is not None
            assert mine.content == theirs.content


def test_another_seed_gives_another_history(ledger: Ledger) -> None:
    other = Ledger(seed=8, today=TODAY)
    assert [s.total for s in other.settlements("demo-na")] != [s.total for s in ledger.settlements("demo-na")]


def test_periods_cover_eight_closed_the_open_one_and_a_month_ahead(ledger: Ledger) -> None:
    for account in SELLERS:
        for marketplace in {s.marketplace_id for s in ledger.settlements(account)}:
            mine = [s for s in ledger.settlements(account) if s.marketplace_id == marketplace]
            closed = [s for s in mine if s.end <= NOW]
            open_ = [s for s in mine if s.start <= NOW < s.end]
            assert len(closed) >= 8 and len(open_) == 1
            assert mine[-1].end >= NOW + timedelta(days=30)
            for earlier, later in itertools.pairwise(mine):
                assert later.start == earlier.end == earlier.start + timedelta(days=14)
            for s in mine:
                assert timedelta(days=1) <= s.deposit - s.end <= timedelta(days=3)
                assert 40 <= s.line_count <= 500


def test_every_settlement_file_reconciles_to_the_cent(ledger: Ledger) -> None:
    checked = 0
    for account in SELLERS:
        for s in ledger.settlements(account):
            document = ledger.report_document(account, s.report_document_id)
            assert document is not None
            parsed = parse_settlement_file(document.content, document.charset)
            total = parsed.amount(parsed.summary["total-amount"])
            assert total == parsed.lines_total == s.total
            assert len(parsed.lines) == s.line_count
            assert {row["settlement-id"] for row in parsed.lines} == {s.settlement_id}
            amount_pattern = r"-?\d+" if s.currency == "JPY" else r"-?\d+[.,]\d\d"
            assert all(re.fullmatch(amount_pattern, row["amount"]) for row in parsed.lines)
            checked += 1
    assert checked >= 4 * 9


def test_reports_are_the_last_90_days_newest_first_and_nothing_after_now(ledger: Ledger) -> None:
    for account in SELLERS:
        reports = ledger.reports(account, NOW)
        created = [r["createdTime"] for r in reports]
        assert created == sorted(created, reverse=True)
        infos = {s.report_id: s for s in ledger.settlements(account)}
        expected = {
            s.report_id
            for s in infos.values()
            if s.end <= NOW and s.end >= NOW - timedelta(days=89) and s.end
        }
        visible = {r["reportId"] for r in reports}
        # Every visible report is of a closed period no older than 90 days, and recent closed ones are there.
        assert visible <= {s.report_id for s in infos.values() if s.end <= NOW}
        assert all(
            r["createdTime"] >= (NOW - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ") for r in reports
        )
        assert expected - visible <= {s.report_id for s in infos.values() if NOW - s.end < timedelta(days=1)}
        for report in reports:
            validate(report, "reports_2021-06-30.json", "Report")
        assert {r["reportType"] for r in reports} == {"GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"}
        assert {r["processingStatus"] for r in reports} == {"DONE"}
        future = next(s for s in infos.values() if s.start > NOW)
        assert ledger.report(account, future.report_id, NOW) is None
        assert ledger.report(account, reports[0]["reportId"], NOW) == reports[0]
        assert ledger.report("demo-vendor", reports[0]["reportId"], NOW) is None
    later = NOW + timedelta(days=20)
    assert (
        ledger.reports("demo-na", later)[0]["createdTime"] > ledger.reports("demo-na", NOW)[0]["createdTime"]
    )


def test_eu_files_use_dotted_dates_and_decimal_commas(ledger: Ledger) -> None:
    de = next(s for s in ledger.settlements("demo-eu") if s.marketplace_id == "A1PA6795UKMFR9")
    document = ledger.report_document("demo-eu", de.report_document_id)
    assert document is not None
    assert document.charset == "windows-1252" and document.compress
    assert b"\r\n" in document.content
    parsed = parse_settlement_file(document.content, document.charset)
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d UTC", parsed.summary["settlement-start-date"])
    assert re.fullmatch(r"-?\d+,\d\d", parsed.summary["total-amount"])
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4}", row["posted-date"]) for row in parsed.lines)
    assert any(row["sku"] == "KAFFEEMÜHLE-GR" for row in parsed.lines)
    with_umlaut = document.content.decode("windows-1252").encode("utf-8")
    assert with_umlaut != document.content  # really cp1252 bytes, not UTF-8


def test_na_files_use_iso_like_dates_and_decimal_points(ledger: Ledger) -> None:
    for marketplace, compressed in (("ATVPDKIKX0DER", True), ("A2EUQ1WTGCTBG2", False)):
        s = next(s for s in ledger.settlements("demo-na") if s.marketplace_id == marketplace)
        document = ledger.report_document("demo-na", s.report_document_id)
        assert document is not None and document.charset == "UTF-8" and document.compress is compressed
        parsed = parse_settlement_file(document.content, document.charset)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", parsed.summary["deposit-date"])
        assert re.fullmatch(r"-?\d+\.\d\d", parsed.summary["total-amount"])


def test_exactly_one_report_drifts_and_it_still_reconciles(ledger: Ledger) -> None:
    drifted = []
    for account in SELLERS:
        for s in ledger.settlements(account):
            document = ledger.report_document(account, s.report_document_id)
            assert document is not None
            parsed = parse_settlement_file(document.content, document.charset)
            if tuple(parsed.header) != V2_COLUMNS:
                drifted.append(s.settlement_id)
                assert set(parsed.header) - set(V2_COLUMNS) == {"marketplace-id"}
                assert set(V2_COLUMNS) <= set(parsed.header)
                assert parsed.header[-1] == "fulfillment-id"
                assert parsed.lines_total == parsed.amount(parsed.summary["total-amount"]) == s.total
    documented = [
        a.settlement_id for a in ledger.injected_anomalies() if a.anomaly_id == "settlement_schema_drift"
    ]
    assert drifted == documented and len(drifted) == 1


def test_lines_cover_the_business_the_brief_asks_for(ledger: Ledger) -> None:
    seen: set[tuple[str, str]] = set()
    negative = 0
    for s in ledger.settlements("demo-na"):
        document = ledger.report_document("demo-na", s.report_document_id)
        assert document is not None
        for row in parse_settlement_file(document.content, document.charset).lines:
            seen.add((row["transaction-type"], row["amount-description"]))
            negative += row["amount"].startswith("-")
    for wanted in [
        ("Order", "Principal"),
        ("Order", "Tax"),
        ("Order", "Shipping"),
        ("Order", "Commission"),
        ("Order", "FBAPerUnitFulfillmentFee"),
        ("Refund", "RefundCommission"),
        ("ServiceFee", "Subscription Fee"),
        ("ServiceFee", "TransactionTotalAmount"),
        ("Transfer", "Previous Reserve Amount Balance"),
        ("Transfer", "Current Reserve Amount"),
        ("Adjustment", "WAREHOUSE_DAMAGE"),
        ("CouponRedemptionFee", "Coupon Redemption Fee"),
    ]:
        assert wanted in seen
    assert negative > 100
    assert Decimal(0) not in {s.total for s in ledger.settlements("demo-na")}


def test_every_rendering_is_identical_for_the_same_seed_and_today(ledger: Ledger) -> None:
    again = Ledger(seed=7, today=TODAY)
    start = NOW - timedelta(days=150)
    for account in SELLERS:
        assert again.financial_event_groups(account, NOW) == ledger.financial_event_groups(account, NOW)
        assert again.financial_events(account, NOW) == ledger.financial_events(account, NOW)
        assert again.transactions(account, NOW, posted_after=start, posted_before=NOW) == ledger.transactions(
            account, NOW, posted_after=start, posted_before=NOW
        )
        assert again.balances(account, NOW) == ledger.balances(account, NOW)
        assert again.summaries(account, NOW) == ledger.summaries(account, NOW)
    assert again.purchase_order_statuses("demo-vendor", NOW) == ledger.purchase_order_statuses(
        "demo-vendor", NOW
    )
    assert again.injected_anomalies() == ledger.injected_anomalies()


def test_today_defaults_to_the_utc_date() -> None:
    default = Ledger(seed=7)
    now = default_start()
    open_periods = [s for s in default.settlements("demo-na") if s.start <= now < s.end]
    assert len(open_periods) == 2  # US and CA


def test_japanese_files_are_shift_jis_in_whole_yen(ledger: Ledger) -> None:
    [account] = [a for a in ledger.accounts() if a.region == "fe"]
    assert ledger.account_for("fe", "seller") == account and account.marketplace_ids == ("A1VC38T7YXB528",)
    s = ledger.settlements(account.account_id)[2]
    document = ledger.report_document(account.account_id, s.report_document_id)
    assert document is not None and document.charset == "Shift_JIS"
    parsed = parse_settlement_file(document.content, "shift_jis")
    assert any(row["sku"] == "コーヒーミル-01" for row in parsed.lines)
    assert "コーヒーミル".encode("shift_jis") in document.content
    assert re.fullmatch(r"\d+", parsed.summary["total-amount"]) and parsed.summary["currency"] == "JPY"
    assert parsed.lines_total == s.total == s.total.to_integral_value()


def test_the_simulator_writes_the_header_acorn_knows() -> None:
    # Two independent spellings of Amazon's V2 header (the simulator's is the oracle): they must agree.
    from transforms.settlement.headers import V2_HEADER

    assert V2_COLUMNS == V2_HEADER
