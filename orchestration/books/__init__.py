"""Books domain: the checks over the journals dbt builds (fct_journal_lines, see README.md)."""

import dagster as dg

from orchestration.books.checks import books_checks

defs = dg.Definitions(asset_checks=books_checks)
