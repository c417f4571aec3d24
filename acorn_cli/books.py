"""`acorn books`: the journals (fct_journal_lines) as files a ledger imports.

Exit codes: 0 exported; 1 refused (lines no posting rule maps, a key the chart map lacks, a currency the format
cannot carry without a rate table); 2 usage; 3 could not run (no warehouse yet, the warehouse locked, the chart
map or rate file unreadable).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from orchestration.outcomes import ExitCode

if TYPE_CHECKING:
    from books.export import ExportResult

FORMATS = ("beancount", "hledger", "qbo-journal", "xero-invoice", "xero-journal")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# How many journal ids a change list prints before "... and N more" (the manifest has them all).
SHOWN = 20


def _exit(code: ExitCode, message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(int(code))


@click.group()
def books() -> None:
    """Journals per settlement, and deferred money, as files for Xero, QuickBooks Online, beancount, hledger."""


@books.command()
@click.option("--format", "export_format", type=click.Choice(FORMATS), required=True, help="The file format.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the files and their manifest.",
)
@click.option("--account", "account_id", help="Only this account's journals (its id in the accounts config).")
@click.option("--month", help="Only journals of this period month, YYYY-MM.")
@click.option(
    "--rates",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rate table (CSV: rate_date,currency,reporting_currency,rate) to convert xero-journal to the base currency.",
)
@click.option(
    "--base-currency", help="Your Xero organisation's currency (xero-journal), overriding the chart map."
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The chart map (default: ACORN_BOOKS_CHART, else config/books/chart.toml).",
)
def export(
    export_format: str,
    out_dir: Path,
    account_id: str | None,
    month: str | None,
    rates: Path | None,
    base_currency: str | None,
    chart: Path | None,
) -> None:
    """Write the journals in FORMAT to the folder, with a manifest, and say which are new or changed.

    Exporting twice writes the same bytes. The export reads the warehouse the last `acorn build` published and
    refuses while any line of the selection has no posting rule, listing those lines.

    \b
    Exit codes:
      0  exported
      1  refused: unmapped lines, a key the chart map lacks, a currency the format cannot carry
      2  usage error (an unknown --account, a bad --month)
      3  could not run: no warehouse yet, the warehouse locked, an unreadable chart map or rate file
    """
    from books.chart import ChartError, ChartGap, load_chart
    from books.export import UnmappedLines, export_books
    from books.formats import ExportOptions, ExportRefused
    from books.rates import RateError, load_rates
    from books.warehouse import Selection, journal_accounts
    from orchestration.outcomes import CouldNotRun
    from orchestration.paths import data_paths

    if month is not None and not MONTH.match(month):
        raise click.BadParameter(f"{month!r} is not a month YYYY-MM", param_hint="--month")
    warehouse = data_paths().warehouse
    try:
        chart_map = load_chart(chart.resolve() if chart else None)
        table = load_rates(rates) if rates is not None else None
        if account_id is not None:
            known = journal_accounts(warehouse) if warehouse.is_file() else None
            if known is not None and account_id not in known:
                raise click.BadParameter(
                    f"no journals for account {account_id!r}; accounts with journals: {', '.join(known) or 'none'}",
                    param_hint="--account",
                )
        options = ExportOptions(rates=table, base_currency=base_currency.upper() if base_currency else None)
        result = export_books(
            warehouse, out_dir.resolve(), export_format, Selection(account_id, month), chart_map, options
        )
    except UnmappedLines as refused:
        lines = "\n".join(f"  - {row.describe()}" for row in refused.rows)
        _exit(
            ExitCode.DATA_PROBLEM,
            f"refused: {len(refused.rows)} group(s) of lines in rpt_books_unmapped have no posting rule for this "
            f"selection, so no journal would equal its deposit:\n{lines}\n"
            "Add rules for them (dbt_project/seeds/posting_rules*.csv), run `acorn build`, then export again.",
        )
    except (ChartGap, ExportRefused) as refused:
        _exit(ExitCode.DATA_PROBLEM, f"refused: {refused}")
    except (ChartError, RateError, CouldNotRun) as error:
        _exit(ExitCode.COULD_NOT_RUN, f"could not run: {error}")
    click.echo(_summary(result))


def _summary(result: ExportResult) -> str:
    """What was written, and what changed since the last export to the folder."""
    changes = result.changes
    lines = [
        f"{result.export_format}: {result.journals} journal(s) in {len(result.files)} file(s) in {result.out_dir}",
    ]
    lines += [f"  {name}" for name in result.files]
    if changes.first_export:
        lines.append(f"first export of {result.export_format} to this folder: every journal is new")
    else:
        lines.append(
            f"since the last export: {len(changes.new)} new, {len(changes.changed)} changed, "
            f"{len(changes.unchanged)} unchanged, {len(changes.gone)} no longer exported"
        )
        for label, ids in (
            ("new", changes.new),
            ("changed (re-import: replace the earlier import)", changes.changed),
            ("no longer exported (delete from your ledger)", changes.gone),
        ):
            if ids:
                lines.append(f"  {label}:")
                lines += [
                    f"    {journal_id}  {result.file_of.get(journal_id, '')}".rstrip()
                    for journal_id in ids[:SHOWN]
                ]
                if len(ids) > SHOWN:
                    lines.append(f"    ... and {len(ids) - SHOWN} more (the manifest lists them all)")
    if result.skipped:
        lines.append(f"not in this format ({len(result.skipped)}):")
        lines += [f"  {journal_id}: {why}" for journal_id, why in list(result.skipped.items())[:SHOWN]]
    if result.removed_files:
        lines.append("removed files of the last export no longer written: " + ", ".join(result.removed_files))
    return "\n".join(lines)
