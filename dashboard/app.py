"""ACORN's dashboard: a Streamlit app over the marts (started by `acorn dashboard`, dashboard/server.py).

Every page reads a private snapshot of the published warehouse (dashboard/snapshot.py), so a build is never
blocked. Each page is filtered by account, marketplace and currency (one currency at a time: two currencies are
never summed) and keeps its filters in the URL (`?account=demo-eu&currency=EUR&marketplace=Amazon.de`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import streamlit as st

from dashboard import figures
from dashboard.checks import LastRunChecks, last_run_checks
from dashboard.snapshot import NoWarehouse, Snapshot, SnapshotStore
from dashboard.timezones import view_time_zone
from orchestration.paths import data_paths, default_config_path
from spapi.config import AccountConfig, load_config

ALL_ACCOUNTS = "All accounts"
ALL_MARKETPLACES = "All marketplaces"


@st.cache_resource
def _store(warehouse: str) -> SnapshotStore:
    return SnapshotStore(Path(warehouse))


@st.cache_data(ttl=60)
def _configured_accounts(config_path: str) -> list[AccountConfig]:
    try:
        return list(load_config(config_path).accounts)
    except Exception:  # the dashboard still shows the marts when the config is missing or broken
        return []


@st.cache_data(ttl=30, show_spinner=False)
def _checks(built_at: str) -> LastRunChecks | None:  # keyed by the build, refreshed every 30 s
    return last_run_checks()


@dataclass(frozen=True)
class View:
    connection: duckdb.DuckDBPyConnection
    snapshot: Snapshot
    filters: figures.Filters
    time_zone: str
    accounts: list[AccountConfig]

    def local(self, frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
        """`columns` (UTC timestamps) shown in the view's time zone."""
        for column in columns:
            if column in frame and pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].dt.tz_convert(self.time_zone).dt.strftime("%Y-%m-%d %H:%M %Z")
        return frame


def money(value: Decimal | None, currency: str) -> str:
    return "-" if value is None else f"{value:,.2f} {currency}"


def share(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.2f} %"


def _choice(key: str, options: list[str], default: str) -> str:
    wanted = st.query_params.get(key)
    return wanted if wanted in options else default


@contextlib.contextmanager
def _view() -> Iterator[View | None]:
    paths = data_paths()
    store = _store(str(paths.warehouse))
    try:
        snapshot = store.current()
    except NoWarehouse as error:
        st.warning(str(error))
        yield None
        return
    accounts = _configured_accounts(str(default_config_path()))
    with snapshot.connect() as connection:
        account_ids = sorted({a.id for a in accounts} | set(figures.accounts(connection)))
        sidebar = st.sidebar
        account_choice = sidebar.selectbox(
            "Account",
            [ALL_ACCOUNTS, *account_ids],
            index=[ALL_ACCOUNTS, *account_ids].index(_choice("account", account_ids, ALL_ACCOUNTS)),
        )
        account = None if account_choice == ALL_ACCOUNTS else account_choice
        currency_options = figures.currencies(connection, account) or ["USD"]
        currency = sidebar.selectbox(
            "Currency (one at a time: never summed)",
            currency_options,
            index=currency_options.index(_choice("currency", currency_options, currency_options[0])),
        )
        marketplace_options = [ALL_MARKETPLACES, *figures.marketplaces(connection, account, currency)]
        marketplace_choice = sidebar.selectbox(
            "Marketplace",
            marketplace_options,
            index=marketplace_options.index(_choice("marketplace", marketplace_options, ALL_MARKETPLACES)),
        )
        marketplace = None if marketplace_choice == ALL_MARKETPLACES else marketplace_choice
        st.query_params.update(
            {"currency": currency}
            | ({"account": account} if account else {})
            | ({"marketplace": marketplace} if marketplace else {})
        )
        for key, value in (("account", account), ("marketplace", marketplace)):
            if value is None and key in st.query_params:
                del st.query_params[key]
        time_zone = view_time_zone(figures.account_time_zones(connection), account)
        built = snapshot.built_at.astimezone(ZoneInfo(time_zone))
        sidebar.caption(f"Times in {time_zone}.")
        st.caption(
            f"Data last built {built:%Y-%m-%d %H:%M %Z}"
            + (f" by run {snapshot.run_id[:8]}" if snapshot.run_id else "")
            + f" · read from {'the DuckLake catalog' if snapshot.catalog else 'a snapshot of ' + str(paths.warehouse)}"
        )
        yield View(connection, snapshot, figures.Filters(currency, account, marketplace), time_zone, accounts)


def _metrics(items: list[tuple[str, str]]) -> None:
    for column, (label, value) in zip(st.columns(len(items)), items, strict=True):
        column.metric(label, value)


def page_income() -> None:
    st.title("Income and net proceeds")
    with _view() as view:
        if view is None:
            return
        c, f = view.connection, view.filters
        _metrics(
            [
                ("Sales", money(figures.sales(c, f), f.currency)),
                ("Net proceeds", money(figures.net_proceeds(c, f), f.currency)),
            ]
        )
        frame = figures.income_over_time(c, f, view.time_zone)
        st.subheader("Cumulative, by day posted")
        st.line_chart(frame, x="day", y=["cumulative sales", "cumulative net proceeds"])
        st.caption(
            "Sales: what buyers paid for the goods (ItemPrice of orders, tax excluded). Net proceeds: every "
            "settlement line (sales, taxes, fees, refunds, reserves, adjustments), which the payouts add up to."
        )


def page_money_held() -> None:
    st.title("Money held by Amazon")
    with _view() as view:
        if view is None:
            return
        c, f = view.connection, view.filters
        deferred = figures.deferred_held(c, f)
        open_so_far = figures.open_period_balance(c, f)
        reserve = figures.reserve_held(c, f)
        _metrics(
            [
                ("Deferred, not yet matured", money(deferred, f.currency)),
                ("Open period so far", money(open_so_far, f.currency)),
                ("Reserve held", money(reserve, f.currency)),
            ]
        )
        schedule = figures.deferred_by_maturity(c, f)
        st.subheader("Deferred money by maturity date")
        if schedule.empty:
            st.info("No deferred money for these filters.")
        else:
            chart = schedule.groupby("maturity_date", as_index=False)["deferred_amount"].sum()
            chart["deferred_amount"] = chart["deferred_amount"].astype(float)
            st.bar_chart(chart, x="maturity_date", y="deferred_amount")
            st.dataframe(schedule, hide_index=True)
        st.subheader("When it should arrive")
        forecast = view.local(
            figures.forecast_rows(c, f),
            "open_period_start_at",
            "expected_period_end_at",
            "expected_deposit_at",
            "amazon_expected_at",
        )
        st.dataframe(forecast, hide_index=True)
        st.caption(
            "Deferred: sales Amazon holds until their maturity date (DD+7, invoiced orders). Open period: the "
            "balance of the settlement period still open. Reserve: what the latest settlement held back."
        )


def page_payouts() -> None:
    st.title("Payouts")
    with _view() as view:
        if view is None:
            return
        c, f = view.connection, view.filters
        history = figures.payout_history(c, f)
        forecast = figures.forecast_rows(c, f)
        _metrics(
            [
                ("Paid out", money(figures.paid_out(c, f), f.currency)),
                ("Payouts", str(len(history))),
                ("Scheduled, no report yet", money(figures.scheduled(c, f), f.currency)),
                ("Amazon expects, open periods", money(figures.amazon_expected(c, f), f.currency)),
            ]
        )
        st.subheader("History (settled: one settlement report each)")
        if not history.empty:
            chart = history[["deposit_at", "marketplace_name", "total_amount"]].copy()
            chart["total_amount"] = chart["total_amount"].astype(float)
            chart["deposit_at"] = chart["deposit_at"].dt.tz_convert(view.time_zone).dt.tz_localize(None)
            st.bar_chart(chart, x="deposit_at", y="total_amount", color="marketplace_name")
        st.dataframe(view.local(history, "deposit_at", "period_start_at", "period_end_at"), hide_index=True)
        st.subheader("Scheduled or in flight: announced by Amazon, no settlement report yet")
        st.dataframe(
            view.local(figures.scheduled_rows(c, f), "scheduled_at", "period_start_at", "period_end_at"),
            hide_index=True,
        )
        st.subheader("Next payout per marketplace: ACORN's forecast beside Amazon's expected payout")
        st.dataframe(
            view.local(
                forecast,
                "open_period_start_at",
                "expected_period_end_at",
                "expected_deposit_at",
                "amazon_expected_at",
            ),
            hide_index=True,
        )
        st.caption(
            "Amazon pays each marketplace apart. Its expected payout for a period still open is that period's "
            "running balance, not a forecast; ACORN's estimate is the median of the marketplace's past payouts."
        )


def page_fees() -> None:
    st.title("Fees")
    with _view() as view:
        if view is None:
            return
        c, f = view.connection, view.filters
        total = figures.fees(c, f)
        sales = figures.sales(c, f)
        _metrics(
            [
                ("Fees", money(total, f.currency)),
                ("Fees as a share of sales", share(figures.ratio(-total, sales))),
            ]
        )
        st.subheader("By category")
        by_category = figures.fees_by_category(c, f)
        by_category["share of sales"] = [
            share(figures.ratio(-Decimal(a), sales)) for a in by_category["amount"]
        ]
        st.dataframe(by_category, hide_index=True)
        st.subheader("By week (costs shown positive)")
        weekly = figures.fees_over_time(c, f, view.time_zone)
        if not weekly.empty:
            st.bar_chart(weekly, x="week", y="fees", color="fee_category")
        st.subheader("Fees as a share of sales, by week")
        st.line_chart(figures.weekly_share_of_sales(c, f, view.time_zone), x="week", y="fees / sales")


def page_refunds() -> None:
    st.title("Refunds")
    with _view() as view:
        if view is None:
            return
        c, f = view.connection, view.filters
        refunds = figures.refunds(c, f)
        sales = figures.sales(c, f)
        _metrics(
            [
                ("Refunds", money(refunds, f.currency)),
                ("Refund rate", share(figures.ratio(-refunds, sales))),
                ("Sales", money(sales, f.currency)),
            ]
        )
        st.subheader("Refund rate by week")
        st.line_chart(figures.refunds_over_time(c, f, view.time_zone), x="week", y="refund rate")
        st.subheader("By SKU")
        st.dataframe(figures.refunds_by_sku(c, f), hide_index=True)
        st.caption("Refund rate: refunded ItemPrice (tax excluded) over sales, in the same currency.")


def page_checks() -> None:
    st.title("Checks and anomalies of the last build")
    with _view() as view:
        if view is None:
            return
        result = _checks(view.snapshot.built_at.isoformat())
        if result is None:
            st.info("No Dagster run with checks found in DAGSTER_HOME.")
        else:
            f = view.filters
            checks = result.for_account(f.account)
            failed = [check for check in checks if not check.passed]
            _metrics([("Checks evaluated", str(len(checks))), ("Checks failed", str(len(failed)))])
            ended = result.ended_at.astimezone(ZoneInfo(view.time_zone)) if result.ended_at else None
            st.caption(
                f"Run {result.run_id} ({result.job_name}, {result.status})"
                + (f", ended {ended:%Y-%m-%d %H:%M %Z}" if ended else "")
            )
            st.subheader("Failed checks, with their numbers")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "severity": c.severity,
                            "check": c.name,
                            "asset": c.asset,
                            "numbers": ", ".join(
                                f"{k}={v}" for k, v in c.numbers.items() if not isinstance(v, dict | list)
                            ),
                        }
                        for c in sorted(failed, key=lambda c: (c.severity, c.name))
                    ],
                    columns=["severity", "check", "asset", "numbers"],
                ),
                hide_index=True,
            )
        st.subheader("Payouts that do not reconcile")
        history = figures.payout_history(view.connection, view.filters)
        unreconciled = history[~history["is_reconciled"]]
        st.dataframe(
            view.local(unreconciled, "deposit_at", "period_start_at", "period_end_at"), hide_index=True
        )
        if figures.table_exists(view.connection, "fct_event_group_reconciliation"):
            st.subheader("Financial event groups whose events do not add up")
            where, params = view.filters.where(marketplace_column=None)
            groups = view.connection.execute(
                f"select * from marts.fct_event_group_reconciliation where {where} and not is_reconciled",
                params,
            ).df()
            st.dataframe(groups, hide_index=True)


def page_vendor() -> None:
    st.title("Vendor purchase orders")
    with _view() as view:
        if view is None:
            return
        c, f = view.connection, view.filters
        if not figures.table_exists(c, "fct_vendor_po_lines"):
            st.info("No vendor purchase orders in the warehouse.")
            return
        totals = figures.vendor_totals(c, f.account, f.currency)
        _metrics(
            [
                ("Open PO lines", str(totals["open_lines"])),
                ("Open value", money(totals["open_value"], f.currency)),
                ("Received value", money(totals["received_value"], f.currency)),
                ("Ordered value", money(totals["ordered_value"], f.currency)),
            ]
        )
        st.dataframe(
            view.local(figures.vendor_orders(c, f.account, f.currency), "purchase_order_at"), hide_index=True
        )
        st.caption("Vendor orders are filtered by account only: a purchase order has no marketplace.")


PAGES: list[tuple[Callable[[], None], str, str]] = [
    (page_income, "Income", "income"),
    (page_money_held, "Money held", "money-held"),
    (page_payouts, "Payouts", "payouts"),
    (page_fees, "Fees", "fees"),
    (page_refunds, "Refunds", "refunds"),
    (page_checks, "Checks", "checks"),
    (page_vendor, "Vendor orders", "vendor"),
]


def main() -> None:
    st.set_page_config(page_title="ACORN", layout="wide")
    navigation = st.navigation(
        [
            st.Page(page, title=title, url_path=path, default=i == 0)
            for i, (page, title, path) in enumerate(PAGES)
        ]
    )
    navigation.run()


main()
