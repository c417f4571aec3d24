"""Books: ACORN's journals (the dbt mart `fct_journal_lines`) exported as files accountants import as they are.

One concept per module: `journal` (the lines and their journals, money as Decimal), `warehouse` (reading them
from the published warehouse, read-only), `chart` (the chart map a user edits: account and tax keys -> each
ledger's accounts and tax rates), `rates` (the user's rate table, for a ledger that cannot carry a currency),
`manifest` (what an export contains, and what changed since the last one), `formats/` (one exporter per file
format) and `export` (the whole export: select, refuse what does not map, render, write, record).
"""
